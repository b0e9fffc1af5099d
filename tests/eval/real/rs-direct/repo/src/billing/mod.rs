pub mod invoice;
pub mod tax;
