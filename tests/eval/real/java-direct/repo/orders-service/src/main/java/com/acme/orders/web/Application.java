package com.acme.orders.web;

import com.acme.orders.service.StockService;

public class Application {
    public static void main(String[] args) {
        System.out.println("orders-service started");
        StockService stock = new StockService();
        int units = stock.available(new StockService.Order("BOOK-1", "eu-west", "EUW"));
        System.out.println(units);
    }
}
