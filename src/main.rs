fn main() {
    std::process::exit(weft::cli::main(weft::App::new()));
}
