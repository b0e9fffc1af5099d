package com.acme.payments.api;

import java.util.Map;

public class PaymentsApi {
    public static void main(String[] args) {
        RefundHandler handler = new RefundHandler();
        System.out.println(handler.handle(Map.of("amount", "12.50", "currency", "EUR")));
    }
}
