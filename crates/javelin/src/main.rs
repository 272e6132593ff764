// Sync stores pages of orders with many small allocations; mimalloc does them faster than the
// system allocator (see `javelin bench ingest`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    javelin::main()
}
