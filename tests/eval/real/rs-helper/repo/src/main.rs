mod api;
mod util;

fn main() {
    println!("gateway: request accepted");
    println!("{}", api::limits::timeout_secs(None));
}
