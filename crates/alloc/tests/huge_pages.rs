//! The allocator as a process's global allocator: blocks keep their
//! contents through growth, and large ones are marked for huge pages in the
//! kernel's own account of the process's mappings.

use aumann_alloc::{HugePages, LARGE};

#[global_allocator]
static ALLOCATOR: HugePages = HugePages;

fn pattern(i: usize) -> u64 {
    (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

#[test]
fn blocks_keep_their_contents_through_growth_and_shrinking() {
    let mut v: Vec<u64> = (0..1000).map(pattern).collect();
    // From small to large (the block moves to a mapping of its own), then
    // larger still, then back to small.
    for len in [LARGE / 8 + 1, 4 * LARGE / 8, 100] {
        let old = v.len();
        v.resize(len.max(old), 0);
        for (i, x) in v.iter_mut().enumerate().skip(old) {
            *x = pattern(i);
        }
        v.truncate(len);
        v.shrink_to_fit();
        assert!(v.iter().enumerate().all(|(i, &x)| x == pattern(i)), "at length {len}");
    }
    let zeroed = vec![0u64; 3 * LARGE / 8];
    assert!(zeroed.iter().all(|&x| x == 0));
}

/// The `VmFlags` line of the mapping that holds `address`, from
/// /proc/self/smaps.
#[cfg(target_os = "linux")]
fn mapping_flags(address: usize) -> Option<String> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    let mut inside = false;
    for line in smaps.lines() {
        if let Some((range, _)) = line.split_once(' ')
            && let Some((lo, hi)) = range.split_once('-')
            && let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        {
            inside = (lo..hi).contains(&address);
            continue;
        }
        if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
            return Some(flags.trim().to_string());
        }
    }
    None
}

#[cfg(target_os = "linux")]
#[test]
fn a_large_block_is_advised() {
    let thp = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
    if !thp.contains("[madvise]") && !thp.contains("[always]") {
        eprintln!("skipped: this kernel's transparent huge pages are off ({})", thp.trim());
        return;
    }
    let large = vec![1u8; 8 * LARGE];
    // A point two huge pages in lies inside the advised extents wherever
    // the block starts.
    let inside = large.as_ptr() as usize + 2 * (2 << 20);
    let flags = mapping_flags(inside).expect("the block's mapping is listed");
    assert!(
        flags.split_whitespace().any(|f| f == "hg"),
        "a block of {} bytes is not advised: VmFlags {flags}",
        large.len()
    );
    assert_eq!(large.iter().map(|&b| b as usize).sum::<usize>(), large.len());
}
