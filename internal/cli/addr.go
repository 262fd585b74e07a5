package cli

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// splitHostPort checks a listen address "host:port" (host may be empty for
// all interfaces; port 0 picks a free one).
func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("want host:port")
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q is not a number from 0 to 65535", p)
	}
	return host, port, nil
}

// loopbackListen reports whether a listen host serves this machine only.
// An empty host listens on every interface.
func loopbackListen(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
