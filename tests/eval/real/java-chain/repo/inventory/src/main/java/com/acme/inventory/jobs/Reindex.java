package com.acme.inventory.jobs;

import com.acme.inventory.config.BatchConfig;

public class Reindex {
    static class JobFailed extends RuntimeException {
        JobFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    static int plan(BatchConfig config, int items) {
        try {
            return config.batchSize(items);
        } catch (ArithmeticException e) {
            throw new JobFailed("reindex could not plan " + items + " items", e);
        }
    }

    public static void main(String[] args) {
        System.out.println(plan(new BatchConfig(0), 1000));
    }
}
