//! The hostfile: one `host:port` per process, in process order.

use crate::ClusterError;
use std::path::Path;

/// The processes' addresses from a hostfile in timely's format: one
/// `host:port` per line, process 0 first. Blank lines and lines starting
/// with `#` are skipped.
pub fn read_hostfile(path: &Path) -> Result<Vec<String>, ClusterError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClusterError::Hostfile {
        path: path.to_path_buf(),
        reason: source.to_string(),
    })?;
    parse_hostfile(&text).map_err(|reason| ClusterError::Hostfile {
        path: path.to_path_buf(),
        reason,
    })
}

pub(crate) fn parse_hostfile(text: &str) -> Result<Vec<String>, String> {
    let mut addresses = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        check_address(line).map_err(|why| format!("line {}: '{line}' {why}", number + 1))?;
        addresses.push(line.to_string());
    }
    if addresses.is_empty() {
        return Err("no address in it: write one host:port per process".into());
    }
    Ok(addresses)
}

fn check_address(address: &str) -> Result<(), &'static str> {
    let Some((host, port)) = address.rsplit_once(':') else {
        return Err("is not host:port");
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err("has no host before the port");
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err("has no port between 1 and 65535"),
    }
}

/// Processes on this machine's loopback from `first_port` up, the default
/// of timely when no hostfile is given.
pub fn loopback(processes: usize, first_port: u16) -> Vec<String> {
    (0..processes)
        .map(|p| format!("127.0.0.1:{}", first_port as usize + p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_come_in_process_order_and_comments_are_skipped() {
        let text = "# the cluster\nnode1:2101\n\n  node2:2101  \n[::1]:2102\n";
        assert_eq!(
            parse_hostfile(text).unwrap(),
            vec!["node1:2101", "node2:2101", "[::1]:2102"]
        );
    }

    #[test]
    fn bad_lines_are_named() {
        let err = parse_hostfile("node1:2101\nnode2\n").unwrap_err();
        assert!(err.contains("line 2") && err.contains("host:port"), "{err}");
        let err = parse_hostfile("node1:99999\n").unwrap_err();
        assert!(err.contains("port"), "{err}");
        let err = parse_hostfile(":2101\n").unwrap_err();
        assert!(err.contains("host"), "{err}");
        assert!(parse_hostfile("# nobody\n").unwrap_err().contains("no address"));
    }

    #[test]
    fn loopback_counts_up_from_the_first_port() {
        assert_eq!(loopback(2, 2101), vec!["127.0.0.1:2101", "127.0.0.1:2102"]);
    }
}
