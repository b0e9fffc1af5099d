package org.minicsv;

public final class Row {
    private final String[] cells;

    public Row(String line) {
        this.cells = line.split(",");
    }

    public String get(int index) {
        return cells[index];
    }
}
