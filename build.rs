//! `sqlx::migrate!` embeds the migrations at compile time; without this a
//! migration added to a folder would not rebuild the binary that runs it.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
