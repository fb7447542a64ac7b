//! The one binary: servers, load generator and reports. mimalloc is the
//! allocator of every part of it, every stack alike: glibc's malloc gave
//! back and faulted in again the pages of each large answer buffer (page
//! faults were a tenth of the gRPC server's CPU at 512 KiB; docs/tuning.md).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    wirebench::main()
}
