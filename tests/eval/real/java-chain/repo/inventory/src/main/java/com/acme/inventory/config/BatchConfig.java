package com.acme.inventory.config;

public class BatchConfig {
    private final int parallelism;

    public BatchConfig(int parallelism) {
        this.parallelism = parallelism;
    }

    public int batchSize(int total) {
        return total / parallelism;
    }
}
