package shaders

import "strings"

// The scanner behind Parse. Each pattern and function here stands for one regular expression
// (quoted in its comment, in Go's RE2 syntax: \s is [\t\n\f\r ], \w is [0-9A-Za-z_], \b an ASCII
// word boundary) and finds what regexp's leftmost-first search would: the match that starts first,
// with the greedy choices. Every pattern here is deterministic once its start is fixed (no repeated
// part can also match what follows it), so matching is a straight walk, byte by byte (all the
// patterns are ASCII, and regexp never starts a match inside a multi-byte character).
// scan_test.go checks the scanner against the regexps (module_ref_test.go).

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }
func isWord(c byte) bool  { return isIdentStart(c) || '0' <= c && c <= '9' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

// A pattern is a sequence of steps, each a token below or a literal text; literal alternatives
// are written "a|b" (tried in order; no backtracking, so no alternative may be a prefix of a later
// one followed by what comes next). \w+, \d+ and alternatives are captured.
const (
	spaces0   = `\s*`
	spaces1   = `\s+`
	word      = `\w+`
	digits    = `\d+`
	wordStart = `\b` // before a word character: the text starts there or the character before is not one
	notClose  = `[^)]*`
)

// match matches pat at src[i:] and returns the end of the match and its captures.
func match(src string, i int, pat []string) (end int, caps []string, ok bool) {
	for _, step := range pat {
		j := i
		switch step {
		case spaces0, spaces1:
			for j < len(src) && isSpace(src[j]) {
				j++
			}
			if step == spaces1 && j == i {
				return 0, nil, false
			}
		case word, digits:
			in := isWord
			if step == digits {
				in = isDigit
			}
			for j < len(src) && in(src[j]) {
				j++
			}
			if j == i {
				return 0, nil, false
			}
			caps = append(caps, src[i:j])
		case wordStart:
			if i > 0 && isWord(src[i-1]) {
				return 0, nil, false
			}
		case notClose:
			// Unlike ., [^)] matches newlines: only the parenthesis ends it.
			k := strings.IndexByte(src[i:], ')')
			if k < 0 {
				return 0, nil, false
			}
			j += k
		default:
			alts := strings.Split(step, "|")
			for _, a := range alts {
				if strings.HasPrefix(src[i:], a) {
					j += len(a)
					if len(alts) > 1 {
						caps = append(caps, a)
					}
					break
				}
			}
			if j == i {
				return 0, nil, false
			}
		}
		i = j
	}
	return i, caps, true
}

// find returns the first match of pat in src[at:], as regexp's leftmost-first search does. A
// pattern starts with a literal, after \b at most, so only the places of that literal are tried.
func find(src string, at int, pat []string) (end int, caps []string, ok bool) {
	lead := pat[0]
	if lead == wordStart {
		lead = pat[1]
	}
	for at <= len(src) {
		k := strings.Index(src[at:], lead)
		if k < 0 {
			break
		}
		if end, caps, ok = match(src, at+k, pat); ok {
			return end, caps, true
		}
		at += k + 1
	}
	return 0, nil, false
}

// The patterns of Parse, each after the regular expression it stands for.
var (
	// @group\(0\)\s*@binding\(0\)\s*var<uniform>\s*p\s*:\s*(\w+)\s*;
	uniformPat = []string{"@group(0)", spaces0, "@binding(0)", spaces0, "var<uniform>", spaces0, "p", spaces0, ":",
		spaces0, word, spaces0, ";"}
	// @group\(0\)\s*@binding\((\d+)\)\s*var<storage,\s*(read_write|read)>\s*(\w+)\s*:
	storagePat = []string{"@group(0)", spaces0, "@binding(", digits, ")", spaces0, "var<storage,", spaces0,
		"read_write|read", ">", spaces0, word, spaces0, ":"}
	// @compute\s*@workgroup_size\([^)]*\)\s*fn\s+(\w+)
	entryPat = []string{"@compute", spaces0, "@workgroup_size(", notClose, ")", spaces0, "fn", spaces1, word}
	// \bfn\s+(\w+)\s*\(
	fnPat = []string{wordStart, "fn", spaces1, word, spaces0, "("}
	// (?m)^const\s+(\w+) (the ^ is consts' business)
	constPat = []string{"const", spaces1, word}
)

// structPat is `\bstruct\s+NAME\s*\{` for a struct's name (a word, so never a token or an alternative).
func structPat(name string) []string {
	return []string{wordStart, "struct", spaces1, name, spaces0, "{"}
}

// consts returns the names of every match of `(?m)^const\s+(\w+)`, in order.
func consts(src string) []string {
	var out []string
	for i := 0; i < len(src); i++ {
		if i > 0 && src[i-1] != '\n' {
			continue
		}
		if end, caps, ok := match(src, i, constPat); ok {
			out = append(out, caps[0])
			i = end - 1 // the next match starts after this one
		}
	}
	return out
}

// idents returns the distinct identifiers of code, skipping member names (after a dot): the
// matches of `\.?\b[A-Za-z_]\w*` that do not start with the dot.
func idents(code string) []string {
	var out []string
	seen := map[string]bool{}
	for i := 0; i < len(code); {
		member := code[i] == '.' && i+1 < len(code) && isIdentStart(code[i+1])
		if !member && !(isIdentStart(code[i]) && (i == 0 || !isWord(code[i-1]))) {
			i++
			continue
		}
		if member {
			i++
		}
		j := i
		for j < len(code) && isWord(code[j]) {
			j++
		}
		id := code[i:j]
		i = j
		if !member && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// stripComments deletes what `(?s)//[^\n]*|/\*.*?\*/` matches: line comments up to (not including)
// the newline and closed block comments (an unclosed /* stays, like the text after it).
func stripComments(src string) string {
	var b strings.Builder
	b.Grow(len(src))
	for i := 0; i < len(src); {
		rest := src[i:]
		switch {
		case strings.HasPrefix(rest, "//"):
			if k := strings.IndexByte(rest, '\n'); k >= 0 {
				i += k
			} else {
				i = len(src)
			}
			continue
		case strings.HasPrefix(rest, "/*"):
			if k := strings.Index(rest[2:], "*/"); k >= 0 {
				i += 2 + k + 2
				continue
			}
		}
		b.WriteByte(src[i])
		i++
	}
	return b.String()
}

// vecType reads `^vec([234])(?:<(u32|i32|f32)>|([uif]))$`: n is the width's digit and short the
// letter of the short spelling (vec4f), empty for the long one (vec4<f32>).
func vecType(t string) (n, short string, ok bool) {
	if len(t) < 5 || !strings.HasPrefix(t, "vec") || t[3] < '2' || t[3] > '4' {
		return "", "", false
	}
	n, rest := t[3:4], t[4:]
	switch rest {
	case "<u32>", "<i32>", "<f32>":
		return n, "", true
	case "u", "i", "f":
		return n, rest, true
	}
	return "", "", false
}

// arrayType reads `^array<(.+),(\d+)u?>$`: the element type (the greedy .+ ends at the last comma;
// it matches anything but a newline) and the count's digits.
func arrayType(t string) (elem, count string, ok bool) {
	inner, ok := strings.CutPrefix(t, "array<")
	if !ok {
		return "", "", false
	}
	if inner, ok = strings.CutSuffix(inner, ">"); !ok {
		return "", "", false
	}
	k := strings.LastIndexByte(inner, ',')
	if k < 1 || strings.IndexByte(inner[:k], '\n') >= 0 {
		return "", "", false
	}
	count = strings.TrimSuffix(inner[k+1:], "u")
	if count == "" || strings.TrimLeft(count, "0123456789") != "" {
		return "", "", false
	}
	return inner[:k], count, true
}
