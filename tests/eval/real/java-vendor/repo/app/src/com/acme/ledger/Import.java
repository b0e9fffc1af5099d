package com.acme.ledger;

import java.util.ArrayList;
import java.util.List;
import org.minicsv.Row;

public class Import {
    public static List<String> accounts(List<String> lines) {
        List<String> accounts = new ArrayList<>();
        for (String line : lines) {
            Row row = new Row(line);
            accounts.add(row.get(3));
        }
        return accounts;
    }

    public static void main(String[] args) {
        System.out.println(accounts(List.of("2026-11-01,12.00,ACC-1", "2026-11-02,3.40,ACC-2")));
    }
}
