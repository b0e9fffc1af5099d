use crate::util::parse;

pub fn timeout_secs(header: Option<&str>) -> u64 {
    let timeout = parse::number(header.unwrap_or(""));
    timeout.min(300)
}
