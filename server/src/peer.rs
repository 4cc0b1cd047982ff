//! The address a public call comes from, for the limits that are per address (votes).
//!
//! The connection's peer, unless that peer is a trusted proxy (`--trusted-proxy`): then the
//! last address of its `x-forwarded-for`, the one the proxy itself appended. Nothing else
//! of that header is believed, since any client can write it.

use std::net::IpAddr;

use ipnet::IpNet;

/// The client's address; the unspecified address when the transport tells none (all such
/// calls then share one budget).
pub fn client_address<T>(request: &tonic::Request<T>, trusted: &[IpNet]) -> IpAddr {
    let peer = request
        .remote_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    if !trusted.iter().any(|net| net.contains(&peer)) {
        return peer;
    }
    request
        .metadata()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .and_then(|last| last.trim().parse().ok())
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use tonic::transport::server::TcpConnectInfo;

    use super::*;

    fn from(peer: &str, forwarded: Option<&str>) -> tonic::Request<()> {
        let mut request = tonic::Request::new(());
        let remote: SocketAddr = peer.parse().expect("address");
        request.extensions_mut().insert(TcpConnectInfo {
            local_addr: None,
            remote_addr: Some(remote),
        });
        if let Some(f) = forwarded {
            request
                .metadata_mut()
                .insert("x-forwarded-for", f.parse().expect("ascii"));
        }
        request
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("cidr")];
        let visitor: IpAddr = "192.0.2.7".parse().expect("ip");
        // A portal in the trusted range relays its visitor's address.
        let relayed = from("10.1.2.3:4000", Some("203.0.113.9, 192.0.2.7"));
        assert_eq!(client_address(&relayed, &trusted), visitor);
        // Anyone else's header is ignored.
        let forged = from("198.51.100.4:5000", Some("192.0.2.7"));
        assert_eq!(
            client_address(&forged, &trusted),
            "198.51.100.4".parse::<IpAddr>().expect("ip")
        );
        // A trusted proxy without the header, or with garbage, is the client itself.
        let bare = from("10.1.2.3:4000", Some("not an address"));
        assert_eq!(
            client_address(&bare, &trusted),
            "10.1.2.3".parse::<IpAddr>().expect("ip")
        );
    }
}
