package config

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// TestExampleListsEveryKey holds README's promise that config.example.toml
// lists every key: TestExampleEqualsDefault alone cannot see a key left out,
// because Parse starts from Default() and a missing key keeps its default.
// Every toml-tagged field of Config must be present in the example at its
// path (embedded structs such as Delivery contribute their keys to each
// uploader section).
func TestExampleListsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if _, err := toml.Decode(string(b), &doc); err != nil {
		t.Fatalf("decode config.example.toml: %v", err)
	}
	var missing []string
	walkKeys(reflect.TypeOf(Config{}), nil, func(path []string) {
		if !hasPath(doc, path) {
			missing = append(missing, strings.Join(path, "."))
		}
	})
	if len(missing) > 0 {
		t.Errorf("config.example.toml leaves out %d keys: %s", len(missing), strings.Join(missing, ", "))
	}
}

// walkKeys calls leaf with the path of every key of the struct type t. A
// nested struct is a section; a map, slice, Duration or scalar is a key.
func walkKeys(t reflect.Type, prefix []string, leaf func([]string)) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			walkKeys(f.Type, prefix, leaf)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := append(append([]string{}, prefix...), name)
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(Duration(0)) {
			walkKeys(f.Type, path, leaf)
			continue
		}
		leaf(path)
	}
}

func hasPath(doc map[string]any, path []string) bool {
	var cur any = doc
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[p]; !ok {
			return false
		}
	}
	return true
}
