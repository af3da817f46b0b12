package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tally-health/tally/campaign"
)

// Upper bounds on values that are valid in form but would let one request,
// one platform or one day grow without limit, or hide a typo (a rate of
// 1e9, 2000 attempts, a day closed after a month).
const (
	maxBodyBytes  = 64 << 20
	maxBatch      = 10_000
	maxAttempts   = 20
	maxCarryDays  = 31
	maxCloseAfter = 72 * time.Hour
	// Each cell a visitor may count in is one stored key tried in turn
	// at intake, and multiplies the per-visitor epsilon.
	maxCellsPerVisitorDay = 100
)

// label is the form of an allowed consent source or version: a short name
// such as "tally.js", "onetrust" or "policy-v3.2", with at least one letter.
var (
	label       = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
	labelLetter = regexp.MustCompile(`[A-Za-z]`)
)

// validateIntakeBounds checks the intake keys that have an upper bound or
// a form beyond their type: listen address, sizes, campaigns, cells.
func (c *Config) validateIntakeBounds() error {
	in := c.Intake
	if err := checkListen(in.Listen); err != nil {
		return bad("intake.listen", "want host:port with a port from 0 to 65535, got %q", in.Listen)
	}
	if in.MaxBodyBytes > maxBodyBytes {
		return bad("intake.max_body_bytes", "must be <= %d (64 MiB), got %d", maxBodyBytes, in.MaxBodyBytes)
	}
	if in.MaxBatch > maxBatch {
		return bad("intake.max_batch", "must be <= %d, got %d", maxBatch, in.MaxBatch)
	}
	for i, v := range in.Campaigns {
		key := fmt.Sprintf("intake.campaigns[%d]", i)
		if v == "" || len([]rune(v)) > 64 {
			return bad(key, "must be 1 to 64 characters, got %q", v)
		}
		if err := campaign.Check(v); err != nil {
			return bad(key, "%v, got %q", err, v)
		}
	}
	return atLeast("intake.max_cells_per_day", in.MaxCellsPerDay, 1)
}

// checkListen accepts what net.Listen("tcp", ...) accepts with a numeric
// port: "host:port", ":port", "[::1]:port".
func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

// validateConsentLabels checks the consent source and version allowlists.
func (c *Config) validateConsentLabels() error {
	for _, l := range []struct {
		key  string
		vals []string
	}{{"consent.sources", c.Consent.Sources}, {"consent.versions", c.Consent.Versions}} {
		for i, v := range l.vals {
			if !label.MatchString(v) || !labelLetter.MatchString(v) {
				return bad(fmt.Sprintf("%s[%d]", l.key, i), "want a short label of letters, digits and _ . : - (at most 64, at least one letter), got %q", v)
			}
		}
	}
	return nil
}

// checkEndpoint accepts an https URL, or http to a loopback host (a local
// test server or proxy), without credentials, query or fragment: the
// uploaders send tokens and request bodies to it.
func checkEndpoint(key, endpoint string) error {
	ep, err := url.Parse(endpoint)
	if err != nil || (ep.Scheme != "http" && ep.Scheme != "https") || ep.Host == "" {
		return bad(key, "must be an http(s) URL, got %q", endpoint)
	}
	if ep.User != nil || ep.RawQuery != "" || strings.Contains(endpoint, "?") {
		return bad(key, "must not hold credentials or a query (secrets come from *_env variables or *_file files)")
	}
	if strings.Contains(endpoint, "#") {
		return bad(key, "must not hold a fragment, got %q", endpoint)
	}
	if ep.Scheme == "http" && !loopback(ep.Hostname()) {
		return bad(key, "must be https (http only to localhost, 127.0.0.0/8 or ::1), got %q", endpoint)
	}
	return nil
}

// loopback reports whether host is localhost or a loopback address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
