pub fn quantities(lines: &[&str]) -> Vec<u32> {
    let mut out = Vec::new();
    for line in lines {
        let qty = tinycsv::field(line, 2);
        out.push(qty.parse().unwrap_or(0));
    }
    out
}
