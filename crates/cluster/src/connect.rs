//! The processes' sockets, opened within a deadline.
//!
//! timely connects a cluster on its own, but retries a missing peer forever
//! and prints to stdout while it waits. These sockets are opened here
//! instead, in timely's pattern (process i connects to every lower index and
//! accepts every higher one), bounded by a deadline, with a handshake that
//! checks that every process runs the same job, and then handed to timely.

use crate::ClusterError;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// "AUMANNCL": the first word of every handshake.
const MAGIC: u64 = 0x4155_4d41_4e4e_434c;

/// What each side of a connection says first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Hello {
    process: u64,
    processes: u64,
    fingerprint: u64,
}

impl Hello {
    fn write(&self, stream: &mut TcpStream) -> io::Result<()> {
        let mut bytes = [0u8; 32];
        for (i, word) in [MAGIC, self.process, self.processes, self.fingerprint]
            .into_iter()
            .enumerate()
        {
            bytes[i * 8..(i + 1) * 8].copy_from_slice(&word.to_be_bytes());
        }
        stream.write_all(&bytes)
    }

    fn read(stream: &mut TcpStream) -> io::Result<Option<Hello>> {
        let mut bytes = [0u8; 32];
        stream.read_exact(&mut bytes)?;
        let word = |i: usize| u64::from_be_bytes(bytes[i * 8..(i + 1) * 8].try_into().expect("8 bytes"));
        Ok((word(0) == MAGIC).then(|| Hello {
            process: word(1),
            processes: word(2),
            fingerprint: word(3),
        }))
    }
}

/// One socket per other process (None at `me`), in process order.
pub(crate) fn connect(
    addresses: &[String],
    me: usize,
    fingerprint: u64,
    timeout: Duration,
) -> Result<Vec<Option<TcpStream>>, ClusterError> {
    let deadline = Instant::now() + timeout;
    let processes = addresses.len();
    let hello = Hello {
        process: me as u64,
        processes: processes as u64,
        fingerprint,
    };
    let listener = TcpListener::bind(&addresses[me]).map_err(|e| ClusterError::Listen {
        process: me,
        address: addresses[me].clone(),
        reason: e.to_string(),
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| ClusterError::Io(e.to_string()))?;
    let acceptor = {
        let addresses = addresses.to_vec();
        std::thread::Builder::new()
            .name("aumann:accept".into())
            .spawn(move || accept_higher(listener, &addresses, hello, deadline, timeout))
            .map_err(|e| ClusterError::Io(e.to_string()))?
    };
    let lower = connect_lower(addresses, hello, deadline, timeout);
    let higher = acceptor.join().expect("the acceptor does not panic");
    let (mut lower, higher) = (lower?, higher?);
    lower.push(None);
    lower.extend(higher.into_iter().map(Some));
    for stream in lower.iter().flatten() {
        configure(stream).map_err(|e| ClusterError::Io(e.to_string()))?;
    }
    Ok(lower)
}

fn configure(stream: &TcpStream) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(None)?;
    stream.set_write_timeout(None)?;
    stream.set_nodelay(true)
}

fn resolve(address: &str) -> io::Result<Vec<SocketAddr>> {
    Ok(address.to_socket_addrs()?.collect())
}

/// Connects to every process below `hello.process`, retrying each until the
/// deadline.
fn connect_lower(
    addresses: &[String],
    hello: Hello,
    deadline: Instant,
    timeout: Duration,
) -> Result<Vec<Option<TcpStream>>, ClusterError> {
    let me = hello.process as usize;
    let mut streams = Vec::with_capacity(me);
    for (peer, address) in addresses.iter().enumerate().take(me) {
        let mut last_error = String::from("no attempt");
        let stream = loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(ClusterError::Unreachable {
                    process: me,
                    missing: vec![(peer, address.clone())],
                    seconds: timeout.as_secs_f64(),
                    last_error,
                });
            }
            match try_connect(address, hello, deadline - now) {
                Ok(Attempt::Connected(stream, theirs)) => {
                    check_peer(me, peer, address, hello, theirs)?;
                    break stream;
                }
                Ok(Attempt::Failed(why)) => last_error = why,
                Err(e) => return Err(e),
            }
            std::thread::sleep(Duration::from_millis(100).min(deadline.saturating_duration_since(Instant::now())));
        };
        streams.push(Some(stream));
    }
    Ok(streams)
}

enum Attempt {
    Connected(TcpStream, Hello),
    /// Nothing answered yet, or the answer was cut: try again.
    Failed(String),
}

fn try_connect(address: &str, hello: Hello, remaining: Duration) -> Result<Attempt, ClusterError> {
    let targets = match resolve(address) {
        Ok(t) if !t.is_empty() => t,
        Ok(_) => return Ok(Attempt::Failed(format!("{address} resolves to no address"))),
        Err(e) => return Ok(Attempt::Failed(e.to_string())),
    };
    let attempt = remaining.min(Duration::from_secs(2)).max(Duration::from_millis(1));
    let mut stream = match TcpStream::connect_timeout(&targets[0], attempt) {
        Ok(s) => s,
        Err(e) => return Ok(Attempt::Failed(e.to_string())),
    };
    let exchange = (|| {
        stream.set_read_timeout(Some(remaining.max(Duration::from_millis(1))))?;
        hello.write(&mut stream)?;
        Hello::read(&mut stream)
    })();
    match exchange {
        Ok(Some(theirs)) => Ok(Attempt::Connected(stream, theirs)),
        Ok(None) => Err(ClusterError::Protocol {
            address: address.to_string(),
        }),
        Err(e) => Ok(Attempt::Failed(e.to_string())),
    }
}

/// Accepts a connection from every process above `hello.process`.
fn accept_higher(
    listener: TcpListener,
    addresses: &[String],
    hello: Hello,
    deadline: Instant,
    timeout: Duration,
) -> Result<Vec<TcpStream>, ClusterError> {
    let me = hello.process as usize;
    let mut streams: Vec<Option<TcpStream>> = (me + 1..addresses.len()).map(|_| None).collect();
    while streams.iter().any(Option::is_none) {
        match listener.accept() {
            Ok((mut stream, from)) => {
                let read = (|| {
                    stream.set_nonblocking(false)?;
                    stream.set_read_timeout(Some(
                        deadline
                            .saturating_duration_since(Instant::now())
                            .max(Duration::from_millis(1)),
                    ))?;
                    Hello::read(&mut stream)
                })();
                let theirs = match read {
                    Ok(Some(theirs)) => theirs,
                    Ok(None) => {
                        return Err(ClusterError::Protocol {
                            address: from.to_string(),
                        });
                    }
                    // A probe or a peer that gave up: keep listening.
                    Err(_) => continue,
                };
                let peer = theirs.process as usize;
                if peer <= me || peer >= addresses.len() || streams[peer - me - 1].is_some() {
                    return Err(ClusterError::Mismatch {
                        process: me,
                        peer,
                        address: from.to_string(),
                        what: format!("says it is process {peer}, which should not connect here"),
                    });
                }
                check_peer(me, peer, &addresses[peer], hello, theirs)?;
                hello.write(&mut stream).map_err(|e| ClusterError::Io(e.to_string()))?;
                streams[peer - me - 1] = Some(stream);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    let missing = streams
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.is_none())
                        .map(|(i, _)| (me + 1 + i, addresses[me + 1 + i].clone()))
                        .collect();
                    return Err(ClusterError::Unreachable {
                        process: me,
                        missing,
                        seconds: timeout.as_secs_f64(),
                        last_error: "it never connected".into(),
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(ClusterError::Io(e.to_string())),
        }
    }
    Ok(streams.into_iter().map(|s| s.expect("all accepted")).collect())
}

fn check_peer(me: usize, peer: usize, address: &str, mine: Hello, theirs: Hello) -> Result<(), ClusterError> {
    let mismatch = |what: String| ClusterError::Mismatch {
        process: me,
        peer,
        address: address.to_string(),
        what,
    };
    if theirs.process as usize != peer {
        return Err(mismatch(format!(
            "answered as process {} where the hostfile puts process {peer}",
            theirs.process
        )));
    }
    if theirs.processes != mine.processes {
        return Err(mismatch(format!(
            "was started for {} processes, this one for {}",
            theirs.processes, mine.processes
        )));
    }
    if theirs.fingerprint != mine.fingerprint {
        return Err(mismatch(
            "runs another job (its input, options or program differ): start every process with the same command".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free_ports(count: usize) -> Vec<String> {
        // Bound and released: free a moment later, which is all a test needs.
        let listeners: Vec<_> = (0..count).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        listeners.iter().map(|l| l.local_addr().unwrap().to_string()).collect()
    }

    #[test]
    fn three_processes_connect_each_pair_once() {
        let addresses = free_ports(3);
        let handles: Vec<_> = (0..3)
            .map(|me| {
                let addresses = addresses.clone();
                std::thread::spawn(move || connect(&addresses, me, 7, Duration::from_secs(10)))
            })
            .collect();
        for (me, h) in handles.into_iter().enumerate() {
            let sockets = h.join().unwrap().unwrap();
            assert_eq!(sockets.len(), 3);
            for (peer, s) in sockets.iter().enumerate() {
                assert_eq!(s.is_none(), peer == me);
            }
        }
    }

    #[test]
    fn a_peer_that_never_answers_is_named_within_the_timeout() {
        let addresses = free_ports(2);
        let started = Instant::now();
        let err = connect(&addresses, 1, 7, Duration::from_millis(600)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        let text = err.to_string();
        assert!(text.contains("process 0") && text.contains(&addresses[0]), "{text}");
        let err = connect(&addresses, 0, 7, Duration::from_millis(300)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("process 1") && text.contains(&addresses[1]), "{text}");
    }

    #[test]
    fn a_peer_running_another_job_is_refused() {
        let addresses = free_ports(2);
        let other = {
            let addresses = addresses.clone();
            std::thread::spawn(move || connect(&addresses, 1, 8, Duration::from_secs(2)))
        };
        let err = connect(&addresses, 0, 7, Duration::from_secs(5)).unwrap_err();
        assert!(err.to_string().contains("another job"), "{err}");
        assert!(other.join().unwrap().is_err());
    }
}
