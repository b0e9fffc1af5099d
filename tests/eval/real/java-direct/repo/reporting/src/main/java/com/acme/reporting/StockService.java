package com.acme.reporting;

public class StockService {}
