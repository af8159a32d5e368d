package shaders

// The regexp-based reader that Parse replaced (module.go reads the WGSL with a hand-written scanner,
// which keeps regexp out of the browser engine). It stays here as the reference the scanner must
// agree with, results and errors alike (TestParseMatchesRegexpReader).

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	refUniform = regexp.MustCompile(`@group\(0\)\s*@binding\(0\)\s*var<uniform>\s*p\s*:\s*(\w+)\s*;`)
	refStorage = regexp.MustCompile(`@group\(0\)\s*@binding\((\d+)\)\s*var<storage,\s*(read_write|read)>\s*(\w+)\s*:`)
	refEntry   = regexp.MustCompile(`@compute\s*@workgroup_size\([^)]*\)\s*fn\s+(\w+)`)
	refFn      = regexp.MustCompile(`\bfn\s+(\w+)\s*\(`)
	refConst   = regexp.MustCompile(`(?m)^const\s+(\w+)`)
	refIdent   = regexp.MustCompile(`\.?\b[A-Za-z_]\w*`)
	refComment = regexp.MustCompile(`(?s)//[^\n]*|/\*.*?\*/`)
)

func refParse(src string) (*Module, error) {
	src = refComment.ReplaceAllString(src, "")
	m := &Module{}
	u := refUniform.FindStringSubmatch(src)
	if u == nil {
		return nil, fmt.Errorf("no `@group(0) @binding(0) var<uniform> p: Params;` declaration")
	}
	body, err := refStructBody(src, u[1])
	if err != nil {
		return nil, err
	}
	if m.Params, m.ParamsBytes, err = refLayout(body); err != nil {
		return nil, fmt.Errorf("struct %s: %w", u[1], err)
	}
	globals := map[string]Binding{}
	for _, s := range refStorage.FindAllStringSubmatch(src, -1) {
		i, _ := strconv.Atoi(s[1])
		b := Binding{Index: i, Name: s[3], ReadOnly: s[2] == "read"}
		for _, o := range m.Bindings {
			if o.Index == i || o.Name == b.Name {
				return nil, fmt.Errorf("bindings %d (%s) and %d (%s) clash", o.Index, o.Name, i, b.Name)
			}
		}
		m.Bindings = append(m.Bindings, b)
		globals[b.Name] = b
	}
	fns := map[string][]string{} // function → identifiers in its body
	for _, loc := range refFn.FindAllStringSubmatchIndex(src, -1) {
		name := src[loc[2]:loc[3]]
		b, err := braces(src, loc[1])
		if err != nil {
			return nil, fmt.Errorf("fn %s: %w", name, err)
		}
		fns[name] = refIdents(b)
	}
	for _, e := range refEntry.FindAllStringSubmatch(src, -1) {
		entry := Entry{Name: e[1]}
		seen := map[string]bool{e[1]: true}
		todo := []string{e[1]}
		for len(todo) > 0 {
			f := todo[0]
			todo = todo[1:]
			for _, id := range fns[f] {
				if b, ok := globals[id]; ok && !seen[id] {
					entry.Bindings = append(entry.Bindings, b)
				} else if _, ok := fns[id]; ok && !seen[id] {
					todo = append(todo, id)
				}
				seen[id] = true
			}
		}
		slices.SortFunc(entry.Bindings, func(a, b Binding) int { return a.Index - b.Index })
		m.Entries = append(m.Entries, entry)
	}
	for _, c := range refConst.FindAllStringSubmatch(src, -1) {
		m.Consts = append(m.Consts, c[1])
	}
	m.Idents = refIdents(src)
	return m, nil
}

func refIdents(code string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range refIdent.FindAllString(code, -1) {
		if !strings.HasPrefix(id, ".") && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func refStructBody(src, name string) (string, error) {
	loc := regexp.MustCompile(`\bstruct\s+` + regexp.QuoteMeta(name) + `\s*\{`).FindStringIndex(src)
	if loc == nil {
		return "", fmt.Errorf("no struct %s", name)
	}
	return braces(src, loc[1]-1)
}

func refLayout(body string) ([]Field, int, error) {
	var fields []Field
	off, align := 0, 4
	for _, decl := range splitTop(body) {
		name, typ, ok := strings.Cut(decl, ":")
		name, typ = strings.TrimSpace(name), strings.Join(strings.Fields(typ), "")
		if !ok || name == "" || typ == "" {
			return nil, 0, fmt.Errorf("cannot read member %q", decl)
		}
		if m := refVec.FindStringSubmatch(typ); m != nil && m[3] != "" {
			typ = "vec" + m[1] + "<" + m[3] + "32>" // vec4f → vec4<f32>
		}
		a, size, err := refTypeLayout(typ)
		if err != nil {
			return nil, 0, fmt.Errorf("member %s: %w", name, err)
		}
		off = roundUp(off, a)
		fields = append(fields, Field{Name: name, Type: typ, Offset: off, Size: size})
		off += size
		align = max(align, a)
	}
	return fields, roundUp(off, align), nil
}

var refVec = regexp.MustCompile(`^vec([234])(?:<(u32|i32|f32)>|([uif]))$`)
var refArray = regexp.MustCompile(`^array<(.+),(\d+)u?>$`)

func refTypeLayout(t string) (align, size int, err error) {
	switch t {
	case "u32", "i32", "f32":
		return 4, 4, nil
	}
	if m := refVec.FindStringSubmatch(t); m != nil {
		n := int(m[1][0] - '0')
		return map[int]int{2: 8, 3: 16, 4: 16}[n], 4 * n, nil
	}
	if m := refArray.FindStringSubmatch(t); m != nil {
		a, s, err := refTypeLayout(m[1])
		if err != nil {
			return 0, 0, err
		}
		n, _ := strconv.Atoi(m[2])
		stride := roundUp(roundUp(s, a), 16) // uniform arrays have a 16-byte stride
		return roundUp(a, 16), n * stride, nil
	}
	return 0, 0, fmt.Errorf("type %s is not supported in Params (use u32, i32, f32, vecN or array)", t)
}
