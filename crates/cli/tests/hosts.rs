//! A cluster across hosts: each process in a network namespace of its own,
//! with its own address, the namespaces joined by a bridge (a virtual
//! switch in one more namespace), so that the processes talk over a real,
//! if virtual, network rather than loopback, and a host can be cut off
//! without closing its connections.
//!
//! Making namespaces takes the privilege to administer the network (root,
//! or CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2's `ip`. Where either is
//! missing the tests say so on stderr and check nothing; where they are
//! there (the development machine, a CI runner as root) they run in full.

mod support;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::{aumann, tables};

/// Namespaces `{prefix}h0`, `{prefix}h1`, ... (the hosts) and `{prefix}sw`
/// (the switch), removed on drop with their links.
struct Hosts {
    prefix: String,
    count: usize,
    /// The test's own subnet, 10.(200 + n).(pid % 250).0/24, so that tests
    /// running at once do not share addresses.
    subnet: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Hosts {
    /// `count` hosts on one switch, or why they cannot be made here.
    fn new(tag: u8, count: usize) -> Result<Self, String> {
        let pid = std::process::id();
        let hosts = Hosts {
            prefix: format!("a{}t{tag}", pid % 100_000),
            count,
            subnet: format!("10.{}.{}", 200 + tag as u32, pid % 250),
        };
        // Dropped on any error below: what was made goes again.
        let switch = hosts.switch();
        ip(&["netns", "add", &switch])?;
        ip(&["-n", &switch, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &switch, "link", "set", "br0", "up"])?;
        for h in 0..count {
            let (host, near, far) = (hosts.host(h), hosts.link(h, 'h'), hosts.link(h, 's'));
            ip(&["netns", "add", &host])?;
            ip(&["-n", &host, "link", "set", "lo", "up"])?;
            ip(&["link", "add", &near, "type", "veth", "peer", "name", &far])?;
            ip(&["link", "set", &near, "netns", &host])?;
            ip(&["link", "set", &far, "netns", &switch])?;
            ip(&["-n", &switch, "link", "set", &far, "master", "br0"])?;
            ip(&["-n", &switch, "link", "set", &far, "up"])?;
            ip(&[
                "-n",
                &host,
                "addr",
                "add",
                &format!("{}/24", hosts.address(h)),
                "dev",
                &near,
            ])?;
            ip(&["-n", &host, "link", "set", &near, "up"])?;
        }
        Ok(hosts)
    }

    fn switch(&self) -> String {
        format!("{}sw", self.prefix)
    }

    fn host(&self, h: usize) -> String {
        format!("{}h{h}", self.prefix)
    }

    /// The two ends of host h's cable: 'h' in the host, 's' in the switch.
    fn link(&self, h: usize, end: char) -> String {
        format!("{}{end}{h}", self.prefix)
    }

    fn address(&self, h: usize) -> String {
        format!("{}.{}", self.subnet, h + 1)
    }

    /// A hostfile naming every host's address, port 2101.
    fn hostfile(&self, dir: &Path) -> std::path::PathBuf {
        let path = dir.join("hosts.txt");
        let lines: Vec<String> = (0..self.count).map(|h| format!("{}:2101\n", self.address(h))).collect();
        std::fs::write(&path, lines.concat()).unwrap();
        path
    }

    /// The binary with `args`, started in host h.
    fn start(&self, h: usize, args: &[String]) -> Child {
        Command::new("ip")
            .args(["netns", "exec", &self.host(h), env!("CARGO_BIN_EXE_aumann")])
            .args(args)
            .env("AUMANN_NO_PROGRESS", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Unplugs host h's cable at the host's end: its connections stay open
    /// and nothing more crosses them.
    fn cut_off(&self, h: usize) {
        ip(&["-n", &self.host(h), "link", "set", &self.link(h, 'h'), "down"]).unwrap();
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        // Deleting a namespace deletes the links in it.
        for h in 0..self.count {
            let _ = ip(&["netns", "del", &self.host(h)]);
        }
        let _ = ip(&["netns", "del", &self.switch()]);
    }
}

/// The hosts, or None after saying on stderr why this machine cannot make
/// them.
fn hosts(tag: u8, count: usize) -> Option<Hosts> {
    match Hosts::new(tag, count) {
        Ok(hosts) => Some(hosts),
        Err(why) => {
            eprintln!("skipped: no network namespaces here ({why})");
            None
        }
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn processes_on_three_hosts_write_the_single_process_tables() {
    let Some(hosts) = hosts(1, 3) else { return };
    let dir = tempfile::tempdir().unwrap();
    let hostfile = hosts.hostfile(dir.path());
    let attribute = |out: &Path| {
        let mut args = strings(&["attribute", "--agents", "9000", "--days", "4", "--indicator", "all"]);
        args.extend(strings(&["--nodes", "12", "--out", out.to_str().unwrap()]));
        args
    };
    let single = dir.path().join("single");
    let args = attribute(&single);
    let run = aumann(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let out = dir.path().join("three");
    let runs: Vec<Output> = (0..3)
        .map(|h| {
            let mut args = attribute(&out);
            args.extend(strings(&[
                "--hostfile",
                hostfile.to_str().unwrap(),
                "--process",
                &h.to_string(),
            ]));
            hosts.start(h, &args)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|child| child.wait_with_output().unwrap())
        .collect();
    for (h, run) in runs.iter().enumerate() {
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "host {h}: {stderr}");
        assert!(stderr.contains(&format!("process {h} of 3")), "{stderr}");
        // Each sends to the others over the virtual network.
        assert!(!stderr.contains("sent 0.0 MB to other processes"), "{stderr}");
    }
    let (expected, got) = (tables(&single), tables(&out));
    assert_eq!(
        expected.len(),
        12,
        "an attribution and a step table for each of six indicators"
    );
    assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
    for (name, bytes) in &expected {
        assert!(&got[name] == bytes, "{name} differs from one process's");
    }
}

#[test]
fn a_host_cut_off_the_network_stops_both_processes_within_the_peer_timeout() {
    let Some(hosts) = hosts(2, 2) else { return };
    let dir = tempfile::tempdir().unwrap();
    let hostfile = hosts.hostfile(dir.path());
    let (out, checkpoints) = (dir.path().join("out"), dir.path().join("checkpoints"));
    let peer_timeout = 5;
    let start = |h: usize| {
        let mut args = strings(&[
            "attribute",
            "--agents",
            "30000",
            "--days",
            "10",
            "--indicator",
            "cascade",
        ]);
        args.extend(strings(&[
            "--nodes",
            "128",
            "--batch",
            "1",
            "--peer-timeout",
            &peer_timeout.to_string(),
        ]));
        args.extend(strings(&["--checkpoint", checkpoints.to_str().unwrap()]));
        args.extend(strings(&[
            "--hostfile",
            hostfile.to_str().unwrap(),
            "--process",
            &h.to_string(),
        ]));
        args.extend(strings(&["--out", out.to_str().unwrap()]));
        hosts.start(h, &args)
    };
    let (zero, one) = (start(0), start(1));
    // Inside the sweeps: the first of 128 gradient sweeps is saved.
    let checkpoint = checkpoints.join("process-1-cascade.checkpoint");
    let waiting = Instant::now();
    while !checkpoint.exists() {
        assert!(waiting.elapsed() < Duration::from_secs(120), "no sweep finished");
        std::thread::sleep(Duration::from_millis(2));
    }
    hosts.cut_off(1);
    let cut = Instant::now();
    let limit = Duration::from_secs(peer_timeout + 30);
    let wait = |child: Child| {
        let run = child.wait_with_output().unwrap();
        (run, cut.elapsed())
    };
    let ((zero, zero_took), (one, one_took)) = (wait(zero), wait(one));
    for (h, run, took, other) in [(0, &zero, zero_took, 1), (1, &one, one_took, 0)] {
        let stderr = String::from_utf8_lossy(&run.stderr);
        eprintln!("host {h} stopped {took:?} after the cut: {}", stderr.trim());
        assert!(
            !run.status.success(),
            "host {h} finished before the cut: make the run longer"
        );
        assert!(took < limit, "host {h} stopped {took:?} after the cut: {stderr}");
        assert!(
            took >= Duration::from_secs(peer_timeout) || stderr.contains("lost the connection"),
            "host {h} stopped before its peer timeout without a lost connection: {stderr}"
        );
        assert!(stderr.contains(&format!("process {other}")), "host {h}: {stderr}");
        assert!(
            !stderr.contains("panicked"),
            "host {h}: an error, not a panic: {stderr}"
        );
    }
    assert!(!out.exists(), "no output from a run that stopped");
}
