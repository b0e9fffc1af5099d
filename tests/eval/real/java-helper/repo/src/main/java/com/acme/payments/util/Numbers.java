package com.acme.payments.util;

public final class Numbers {
    private Numbers() {}

    public static long parseCents(String amount) {
        String digits = amount.replace(".", "");
        return Long.parseLong(digits);
    }
}
