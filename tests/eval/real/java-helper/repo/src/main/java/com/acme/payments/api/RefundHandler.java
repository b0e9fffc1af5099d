package com.acme.payments.api;

import com.acme.payments.util.Numbers;
import java.util.Map;

public class RefundHandler {
    public long handle(Map<String, String> request) {
        long cents = Numbers.parseCents(request.get("amount_minor"));
        return -cents;
    }
}
