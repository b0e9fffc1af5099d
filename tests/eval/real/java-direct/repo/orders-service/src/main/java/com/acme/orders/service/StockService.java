package com.acme.orders.service;

import java.util.HashMap;
import java.util.Map;

public class StockService {
    public record Order(String sku, String region, String regionCode) {}

    public static class Warehouse {
        public static final Warehouse EMPTY = new Warehouse(0);
        private final int units;

        public Warehouse(int units) {
            this.units = units;
        }

        public int available(String sku) {
            return units;
        }
    }

    private final Map<String, Warehouse> warehouses = new HashMap<>();

    public StockService() {
        warehouses.put("eu-west", new Warehouse(12));
    }

    public int available(Order order) {
        return warehouses.get(order.regionCode()).available(order.sku());
    }
}
