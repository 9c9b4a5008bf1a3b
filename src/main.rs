fn main() -> std::process::ExitCode {
    oxcart::cli::main()
}
