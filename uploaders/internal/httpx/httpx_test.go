package httpx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                              0,
		"12":                            12 * time.Second,
		"-3":                            0,
		"soon":                          0,
		"Sat, 21 Nov 2026 06:00:30 GMT": 30 * time.Second,
		"Sat, 21 Nov 2026 05:00:00 GMT": 0,
	}
	for in, want := range tests {
		if got := RetryAfter(in, now); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestSenderNeverLeaksTheSecret(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	// A redirect would carry the query credential to another host.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("redirect followed to %s", r.URL)
	}))
	defer other.Close()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, other.URL+"/steal?"+r.URL.RawQuery, http.StatusFound)
			return
		}
		w.Write([]byte(`{"error":"bad token ` + r.URL.Query().Get("access_token") + `"}`))
	}))
	defer echo.Close()
	s := &Sender{Client: NewClient(time.Second), Secret: tally.NewSecret(secret), Authorize: QueryParam("access_token")}

	a := s.Do(context.Background(), &batch.Request{Method: "POST", URL: echo.URL + "/x"})
	if strings.Contains(string(a.Body), secret) {
		t.Errorf("echoed secret kept in body: %s", a.Body)
	}
	if a := s.Do(context.Background(), &batch.Request{Method: "POST", URL: echo.URL + "/redirect"}); a.Status != http.StatusFound {
		t.Errorf("redirect status = %d", a.Status)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	a = s.Do(context.Background(), &batch.Request{Method: "POST", URL: dead.URL + "/x"})
	if a.Err == "" || strings.Contains(a.Err, secret) || strings.Contains(a.Err, "access_token") {
		t.Errorf("network error %q", a.Err)
	}
}

// An excerpt counts characters: it never cuts one in half.
func TestExcerptCountsCharacters(t *testing.T) {
	got := Excerpt([]byte(strings.Repeat("€", 300)), 200)
	if !utf8.ValidString(got) || got != strings.Repeat("€", 200)+"…" {
		t.Errorf("excerpt of 300 € = %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	if got := Excerpt([]byte(" short "), 200); got != "short" {
		t.Errorf("short excerpt = %q", got)
	}
}

// Count reads the events of a body an adapter built; an unreadable body
// counts -1, which no platform's count matches.
func TestCount(t *testing.T) {
	tests := map[string]int{
		`{"data":[{},{"a":1},3]}`: 3,
		`{"data":[]}`:             0,
		`{"data":null}`:           0,
		`{"other":[1]}`:           0,
		`{"data":"x"}`:            -1,
		`[1,2]`:                   -1,
		`not json`:                -1,
	}
	for body, want := range tests {
		if got := Count([]byte(body), "data"); got != want {
			t.Errorf("Count(%s) = %d, want %d", body, got, want)
		}
	}
}

// Header and QueryParam put the secret where the platform reads it.
func TestAuthorize(t *testing.T) {
	s := tally.NewSecret("tok")
	r := httptest.NewRequest("POST", "http://x/p?a=1", nil)
	QueryParam("api_secret")(r, s)
	Header("Authorization", "Bearer ")(r, s)
	if r.URL.RawQuery != "a=1&api_secret=tok" || r.Header.Get("Authorization") != "Bearer tok" {
		t.Errorf("query %q, header %q", r.URL.RawQuery, r.Header.Get("Authorization"))
	}
}
