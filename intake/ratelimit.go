package intake

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// maxRateClients bounds how many clients' buckets are kept: past it the
// least recently seen client is forgotten (and starts again with a full
// burst when it returns). About 200 bytes each: 20 MB at most, whatever the
// number of addresses that send.
const maxRateClients = 100_000

// ClientLimits is a token bucket per client, in memory only: the address
// is a map key for as long as the bucket lives, never written to the
// database, a log or a metric.
//
// The client is the connection's address (RemoteAddr), never a header
// such as X-Forwarded-For, which any client can forge; an IPv6 client is
// its /64, the block one host holds. Loopback addresses are not limited:
// there the client is a reverse proxy on the same host, which sees the real
// clients and must do its own limiting.
type ClientLimits struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	buckets *simplelru.LRU[netip.Prefix, *rate.Limiter]
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NewClientLimits allows each client perSecond requests a second with
// bursts of burst; perSecond <= 0 turns the limit off (nil).
func NewClientLimits(perSecond float64, burst, maxClients int) *ClientLimits {
	if perSecond <= 0 {
		return nil
	}
	if maxClients <= 0 {
		maxClients = maxRateClients
	}
	burst = max(burst, 1) // a bucket of 0 would refuse every request for good
	lru, err := simplelru.NewLRU[netip.Prefix, *rate.Limiter](maxClients, nil)
	if err != nil {
		panic("intake: client limits: " + err.Error()) // only for a size <= 0
	}
	return &ClientLimits{limit: rate.Limit(perSecond), burst: burst, buckets: lru, Now: time.Now}
}

// Len is the number of clients whose buckets are kept.
func (l *ClientLimits) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buckets.Len()
}

// allow takes a token for the client at remoteAddr, or says how long until
// one is available.
func (l *ClientLimits) allow(remoteAddr string) (bool, time.Duration) {
	client, ok := clientOf(remoteAddr)
	if !ok {
		return true, 0
	}
	now := l.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets.Get(client)
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets.Add(client, b)
	}
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		// Not taken: a refused request must not push the client's next
		// allowed one further out.
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// clientOf reduces a RemoteAddr to the client it is limited as: the
// address, an IPv6 address's /64, or ok=false for loopback (and for an
// address that does not parse, which net/http never gives).
func clientOf(remoteAddr string) (netip.Prefix, bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.IsLoopback() {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap().WithZone("")
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p, true
}

// limited answers 429 with Retry-After (whole seconds, at least 1) to a
// client over its rate. Nothing about the client is logged.
func (s *Server) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Limits == nil {
			h(w, r)
			return
		}
		if ok, wait := s.Limits.allow(r.RemoteAddr); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(wait.Seconds())))))
			writeError(w, http.StatusTooManyRequests, "too many requests from this client; retry later")
			return
		}
		h(w, r)
	}
}
