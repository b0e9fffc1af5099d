//! tinycsv 0.2.1 (vendored)

pub fn field(line: &str, index: usize) -> &str {
    let fields: Vec<&str> = line.split(',').collect();
    fields[index]
}
