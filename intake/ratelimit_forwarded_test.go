package intake_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRateLimitIgnoresForwardedFor holds README's promise that the client
// is the connection's address, never X-Forwarded-For: a client that forges
// a new X-Forwarded-For on every request is still one client, and a
// header naming a loopback address does not exempt a remote connection.
func TestRateLimitIgnoresForwardedFor(t *testing.T) {
	ls := newLimited(t, 0.25, 2, 0)
	send := func(remote, forwarded string) int {
		req := httptest.NewRequest("POST", "/v1/events", strings.NewReader(ev("e", "appointment_booked", "nobody", "")))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", forwarded)
		req.Header.Set("X-Real-IP", forwarded)
		req.Header.Set("Forwarded", "for="+forwarded)
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		ls.h.ServeHTTP(rec, req)
		return rec.Code
	}
	remote := "203.0.113.7:5555"
	for i := 0; i < 2; i++ {
		if code := send(remote, fmt.Sprintf("198.51.100.%d", i+1)); code != 200 {
			t.Fatalf("request %d within the burst: %d, want 200", i, code)
		}
	}
	if code := send(remote, "198.51.100.99"); code != 429 {
		t.Errorf("a forged X-Forwarded-For past the burst: %d, want 429 (the client is the connection)", code)
	}
	if code := send(remote, "127.0.0.1"); code != 429 {
		t.Errorf("X-Forwarded-For: 127.0.0.1 from a remote connection: %d, want 429 (not loopback)", code)
	}
}
