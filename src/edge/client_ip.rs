//! Decides the client address: the socket peer, unless the peer is a
//! trusted proxy, in which case the nearest `X-Forwarded-For` entry that is
//! not itself a trusted proxy.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // Each proxy appends the address it received from, so reading from the
    // right and skipping our own proxies finds the first untrusted hop.
    // Entries left of it could have been written by the client.
    let mut client = peer;
    for value in headers.get_all("x-forwarded-for") .iter().rev() {
        let Ok(text) = value.to_str() else { return client };
        for entry in text.rsplit(',') {
            let Ok(ip) = entry.trim().parse::<IpAddr>() else { return client };
            client = ip;
            if !is_trusted(&ip) {
                return client;
            }
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn untrusted_peer_ignores_header() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(client_ip(peer, &headers("1.2.3.4"), &[]), peer);
    }

    #[test]
    fn trusted_peer_uses_rightmost_untrusted() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let got = client_ip(peer, &headers("6.6.6.6, 198.51.100.7, 10.0.0.2"), &trusted);
        assert_eq!(got, "198.51.100.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn garbage_entry_stops_at_last_good_hop() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(client_ip(peer, &headers("not-an-ip"), &trusted), peer);
    }
}
