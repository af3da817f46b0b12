package config_test

import (
	"strings"
	"testing"

	"github.com/tally-health/tally/config"
)

// TestTOMLErrorQuotesNoValue: a file that is not TOML (an env file of
// tokens given as --config, a token pasted unquoted) is refused with the
// line, never with the text the parser stumbled on: that text may be a
// secret, and the error goes to logs.
func TestTOMLErrorQuotesNoValue(t *testing.T) {
	const secret = "EAABxSecretToken"
	for _, in := range []string{
		"META_TOKEN=" + secret + "\n",
		"[uploaders.meta]\naccess_token = " + secret + "\n",
		"x = t" + secret + "\n",
		"x = true" + secret + "\n",
		"x = \"a\" " + secret + "\n",
		"x = 1" + secret + "\n",
		"x = [" + secret + "]\n",
		"x = {" + secret + "}\n",
		secret + "\n",
		secret + "==\n",             // a base64 secret reads as a key
		"a = 1\n" + secret + "==\n", // after a key that parsed
	} {
		_, err := config.Parse(strings.NewReader(in))
		if err == nil {
			t.Errorf("%q: parsed, want an error", in)
			continue
		}
		if strings.Contains(err.Error(), "EAAB") || strings.Contains(err.Error(), "Secret") {
			t.Errorf("%q: the error quotes the file's text: %v", in, err)
		}
		if !strings.Contains(err.Error(), "line ") {
			t.Errorf("%q: the error does not name the line: %v", in, err)
		}
	}
}
