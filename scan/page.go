package scan

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// page is what one HTML document contributes to a scan.
type page struct {
	// code is what Detect reads: inline scripts, the attributes of elements
	// that load things (script, img, iframe, link, ...), event handler
	// attributes and javascript: links, and the same from inside
	// <noscript>. Visible text is left out, so an article that mentions
	// "fbq(" is not a finding.
	code string
	// scripts are the script URLs the page loads (src, or data-src that
	// consent tools use to hold a script back), unresolved.
	scripts []string
	// links are the pages it leads to (a and area href, iframe src),
	// unresolved.
	links []string
	// base is the <base href>, when the page sets one.
	base string
}

// loaders are the elements whose every attribute value is read as code:
// they fetch what their attributes name, so a pixel URL there is loaded.
var loaders = map[atom.Atom]bool{
	atom.Script: true, atom.Img: true, atom.Iframe: true, atom.Link: true,
	atom.Source: true, atom.Embed: true, atom.Object: true, atom.Frame: true,
}

// maxNoscriptNesting bounds re-parsing of <noscript> content (which the
// tokenizer returns as raw text) so hostile input cannot recurse deeply.
const maxNoscriptNesting = 3

// parsePage reads an HTML document.
func parsePage(doc []byte) page {
	var p page
	var code strings.Builder
	p.read(doc, &code, 0)
	p.code = code.String()
	return p
}

func (p *page) read(doc []byte, code *strings.Builder, nesting int) {
	z := html.NewTokenizer(bytes.NewReader(doc))
	var raw atom.Atom // the raw-text element whose content comes next
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return // io.EOF: the document was read from memory
		case html.TextToken:
			switch raw {
			case atom.Script:
				writeCode(code, string(z.Text()))
			case atom.Noscript:
				if nesting < maxNoscriptNesting {
					p.read(z.Text(), code, nesting+1)
				}
			}
			raw = 0
			continue
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			raw = 0
			if tt == html.StartTagToken {
				raw = t.DataAtom
			}
			p.element(t, code)
		default:
			raw = 0
		}
	}
}

// element collects what one start tag contributes.
func (p *page) element(t html.Token, code *strings.Builder) {
	for _, a := range t.Attr {
		key := strings.ToLower(a.Key)
		v := strings.TrimSpace(a.Val)
		switch {
		case loaders[t.DataAtom]:
			writeCode(code, v)
		case strings.HasPrefix(key, "on"):
			writeCode(code, v) // onclick="fbq('track', ...)"
		case strings.HasPrefix(strings.ToLower(v), "javascript:"):
			writeCode(code, v)
		}
		switch {
		case t.DataAtom == atom.Script && (key == "src" || key == "data-src"):
			p.scripts = append(p.scripts, v)
		case (t.DataAtom == atom.A || t.DataAtom == atom.Area) && key == "href",
			(t.DataAtom == atom.Iframe || t.DataAtom == atom.Frame) && key == "src":
			p.links = append(p.links, v)
		case t.DataAtom == atom.Base && key == "href" && p.base == "":
			p.base = v
		}
	}
}

func writeCode(b *strings.Builder, s string) {
	if s == "" {
		return
	}
	if b.Len() > 0 {
		b.WriteString(segmentSep)
	}
	b.WriteString(s)
}
