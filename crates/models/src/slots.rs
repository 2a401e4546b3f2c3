//! Parallel writes into one buffer: in rows cut beforehand, or at slots
//! that never overlap.

/// Rows of agents handed to one parallel task: large enough to amortise
/// scheduling, small enough to balance heavy-tailed rows over cores. Fixed,
/// so that chunked sums do not depend on the thread count.
pub(crate) const AGENT_CHUNK: usize = 2048;

/// A buffer that several threads fill, each at slots no other thread
/// writes: the scatter of a counting sort, where the counts give every
/// thread its own ranges before anything is written.
///
/// Rayon's safe splits (`par_chunks_mut`) need the pieces to be contiguous
/// and known in advance; a scatter's pieces are interleaved, so the writes
/// go through a pointer and their disjointness is the caller's promise.
pub(crate) struct SharedSlots<'a, T> {
    ptr: *mut T,
    len: usize,
    _buffer: std::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: the buffer is borrowed mutably for 'a, and `write` requires that
// no two threads write the same slot.
unsafe impl<T: Send> Sync for SharedSlots<'_, T> {}
unsafe impl<T: Send> Send for SharedSlots<'_, T> {}

impl<'a, T: Copy> SharedSlots<'a, T> {
    pub(crate) fn new(buffer: &'a mut [T]) -> Self {
        Self {
            ptr: buffer.as_mut_ptr(),
            len: buffer.len(),
            _buffer: std::marker::PhantomData,
        }
    }

    /// Writes `value` at `slot`.
    ///
    /// # Safety
    /// No other thread writes or reads `slot` while the buffer is shared.
    #[inline]
    pub(crate) unsafe fn write(&self, slot: usize, value: T) {
        assert!(slot < self.len, "slot {slot} outside a buffer of {}", self.len);
        // SAFETY: in bounds (checked), and the caller promises no other
        // thread touches this slot.
        unsafe { self.ptr.add(slot).write(value) }
    }
}

/// Cuts `buffer` into consecutive rows of the given lengths (a CSR's rows,
/// a table's steps), so that each can be filled by a task of its own.
pub(crate) fn split_rows<T>(mut buffer: &mut [T], lengths: impl IntoIterator<Item = usize>) -> Vec<&mut [T]> {
    let lengths = lengths.into_iter();
    let mut rows = Vec::with_capacity(lengths.size_hint().0);
    for length in lengths {
        let (head, tail) = std::mem::take(&mut buffer).split_at_mut(length);
        rows.push(head);
        buffer = tail;
    }
    rows
}

/// Calls `f(r, row, &mut per_row[r])` for every row r of a CSR buffer, in
/// parallel: row r is `buffer[offsets[r] - offsets[0]..offsets[r + 1] -
/// offsets[0]]`.
///
/// Unlike [`split_rows`] it makes no vector of every row's slice (16 bytes
/// a row: 27 MB at full scale, a fresh allocation first touched by one
/// thread each time); the buffer is cut into one piece per `CHUNK` rows
/// and each task cuts its piece as it goes.
pub(crate) fn for_each_row<T: Send, U: Send>(
    buffer: &mut [T],
    offsets: &[u64],
    per_row: &mut [U],
    f: impl Fn(usize, &mut [T], &mut U) + Sync,
) {
    use rayon::prelude::*;
    const CHUNK: usize = 1024;
    let rows = offsets.len() - 1;
    assert_eq!(per_row.len(), rows, "one entry per row");
    assert_eq!(
        buffer.len() as u64,
        offsets[rows] - offsets[0],
        "the rows fill the buffer"
    );
    let pieces = split_rows(
        buffer,
        (0..rows)
            .step_by(CHUNK)
            .map(|a| (offsets[(a + CHUNK).min(rows)] - offsets[a]) as usize),
    );
    pieces
        .into_par_iter()
        .zip(per_row.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(c, (mut piece, entries))| {
            for (i, entry) in entries.iter_mut().enumerate() {
                let r = c * CHUNK + i;
                let (row, rest) = std::mem::take(&mut piece).split_at_mut((offsets[r + 1] - offsets[r]) as usize);
                f(r, row, entry);
                piece = rest;
            }
        });
}

/// `len` copies of `value`, written in parallel.
///
/// Writing a fresh buffer is first touching its pages, and the kernel's
/// zeroing of a page on first touch costs more than the write itself at
/// full scale (BENCHMARKS.md, "What a first touch costs"): spread over the
/// threads, it takes a fraction of the time `vec![value; len]` takes on
/// one. A buffer that is then scattered into at random (a lookup table, a
/// per-gate sum) gets its pages touched here, in parallel, rather than by
/// the scatter, on one thread.
pub(crate) fn filled<T: Copy + Send + Sync>(len: usize, value: T) -> Vec<T> {
    use rayon::prelude::*;
    let mut buffer = Vec::with_capacity(len);
    buffer.par_extend(rayon::iter::repeat_n(value, len));
    buffer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_visited_once_with_its_own_entry_on_any_thread_count() {
        // 3,000 rows of lengths 0 to 4 (more than two chunks), from a base
        // offset that is not 0.
        let lengths: Vec<u64> = (0..3000).map(|r| (r * 7 % 5) as u64).collect();
        let mut offsets = vec![100u64];
        for &l in &lengths {
            offsets.push(offsets.last().unwrap() + l);
        }
        let total = (offsets[3000] - 100) as usize;
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut buffer = vec![u32::MAX; total];
            let mut seen = vec![0usize; 3000];
            pool.install(|| {
                for_each_row(&mut buffer, &offsets, &mut seen, |r, row, entry| {
                    row.fill(r as u32);
                    *entry += row.len() + 1;
                })
            });
            let expected: Vec<u32> = (0..3000u32)
                .flat_map(|r| std::iter::repeat_n(r, lengths[r as usize] as usize))
                .collect();
            assert_eq!(buffer, expected, "{threads} threads");
            assert!(seen.iter().zip(&lengths).all(|(&s, &l)| s == l as usize + 1));
        }
    }

    #[test]
    fn a_filled_buffer_holds_its_value_everywhere_on_any_thread_count() {
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            for len in [0, 1, 1000, 100_003] {
                let buffer = pool.install(|| filled(len, u32::MAX - 7));
                assert_eq!(buffer.len(), len);
                assert!(
                    buffer.iter().all(|&x| x == u32::MAX - 7),
                    "{len} values, {threads} threads"
                );
            }
        }
    }
}
