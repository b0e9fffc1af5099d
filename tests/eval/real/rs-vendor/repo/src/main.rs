mod import;

fn main() {
    println!("{:?}", import::quantities(&["BOOK-1,3", "PEN-2,10"]));
}
