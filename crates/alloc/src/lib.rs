//! The allocator of the `aumann` binary and the Python package: the
//! system's, asking the kernel for transparent huge pages wherever a block
//! is large.
//!
//! # Why
//!
//! An attribution at full scale (1,671,587 agents) reads rows of a few
//! gigabytes at addresses that jump: every sender's emission and states,
//! every follower's adjoints. With 4 KiB pages many such reads also miss
//! the TLB, and first touching those gigabytes costs millions of page
//! faults (2.3 million in one run, a quarter of its CPU time in the kernel
//! zeroing pages). Most Linux distributions leave transparent huge pages to
//! programs that ask for them (`/sys/kernel/mm/transparent_hugepage/enabled`
//! reads `madvise`), so this allocator asks, for every block of at least
//! [`LARGE`] bytes.
//! BENCHMARKS.md ("Huge pages") has what it changed.
//!
//! # Why not a crate
//!
//! The crates that do this replace the allocator wholesale (jemalloc,
//! mimalloc, tcmalloc: a C build and different memory behaviour for every
//! small allocation, where only the large blocks need a change) or are
//! single-author experiments. The change is one `madvise` call after the
//! system allocator's own work, so it is written here against `libc`.
//!
//! # Where it applies
//!
//! Linux only; elsewhere [`HugePages`] is the system allocator unchanged.
//! The advice is a hint: where the kernel's setting is `never`, or it has
//! no huge page at hand, it keeps 4 KiB pages and nothing else changes. No
//! number computed depends on it.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks from this size on are advised to use huge pages: two huge pages,
/// so that a block holds at least one aligned 2 MiB extent wherever it
/// starts.
pub const LARGE: usize = 4 << 20;

/// The size of a transparent huge page on x86-64 and most arm64 kernels.
/// Where it is larger, the advice covers fewer whole pages and is otherwise
/// harmless.
const HUGE_PAGE: usize = 2 << 20;

/// The system allocator, with huge pages advised for large blocks.
///
/// ```
/// #[global_allocator]
/// static ALLOCATOR: aumann_alloc::HugePages = aumann_alloc::HugePages;
///
/// fn main() {
///     let rows = vec![0.0f64; 1 << 20]; // 8 MiB: advised
///     assert_eq!(rows.len(), 1 << 20);
/// }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HugePages;

// SAFETY: every call is forwarded to `System` with its own arguments; the
// advice only changes how the kernel backs pages of a block that `System`
// has just handed out, never its contents or its extent.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let block = unsafe { System.alloc(layout) };
        advise(block, layout.size());
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let block = unsafe { System.alloc_zeroed(layout) };
        advise(block, layout.size());
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: `block` came from `System` through this allocator.
        unsafe { System.dealloc(block, layout) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let moved = unsafe { System.realloc(block, layout, new_size) };
        if new_size > layout.size() {
            advise(moved, new_size);
        }
        moved
    }
}

/// Advises huge pages for the whole 2 MiB extents of a block of `size`
/// bytes at `block`, if it is large (a null block, a failed allocation, is
/// left alone).
#[inline]
fn advise(block: *mut u8, size: usize) {
    if size < LARGE || block.is_null() {
        return;
    }
    let Some((start, len)) = aligned_extents(block as usize, size) else {
        return;
    };
    #[cfg(target_os = "linux")]
    // SAFETY: [start, start + len) lies inside the block just allocated;
    // MADV_HUGEPAGE changes no byte of it and only sets a flag of the
    // mapping. An error (a kernel without transparent huge pages) is ignored:
    // the block stays as it was.
    unsafe {
        libc::madvise(start as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (start, len);
}

/// The largest range of whole huge pages inside [address, address + size):
/// (start, length), or None where the block holds none.
fn aligned_extents(address: usize, size: usize) -> Option<(usize, usize)> {
    let start = address.checked_add(HUGE_PAGE - 1)? & !(HUGE_PAGE - 1);
    let end = address.checked_add(size)? & !(HUGE_PAGE - 1);
    (end > start).then(|| (start, end - start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_advised_range_is_the_whole_huge_pages_inside_the_block() {
        const MB: usize = 1 << 20;
        // Aligned start: every whole page.
        assert_eq!(aligned_extents(4 * MB, 6 * MB), Some((4 * MB, 6 * MB)));
        // A start 16 bytes past a boundary (glibc's header) loses the first
        // and the last page.
        assert_eq!(aligned_extents(4 * MB + 16, 6 * MB), Some((6 * MB, 4 * MB)));
        // A block that straddles one boundary only.
        assert_eq!(aligned_extents(3 * MB, 2 * MB), None);
        assert_eq!(aligned_extents(MB, 3 * MB), Some((2 * MB, 2 * MB)));
        // Near the top of the address space.
        assert_eq!(aligned_extents(usize::MAX - MB, MB), None);
    }
}
