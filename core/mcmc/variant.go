package mcmc

import "fmt"

// Variants lists every variant, in the order of their values.
func Variants() []Variant { return []Variant{Paper, Fresh, IID, Cached} }

// String returns the variant's name ("paper", "fresh", "iid").
func (v Variant) String() string {
	switch v {
	case Paper:
		return "paper"
	case Fresh:
		return "fresh"
	case IID:
		return "iid"
	case Cached:
		return "cached"
	}
	return fmt.Sprintf("variant(%d)", int(v))
}

// ParseVariant reads a variant's name.
func ParseVariant(s string) (Variant, error) {
	for _, v := range Variants() {
		if s == v.String() {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown sampler variant %q (want paper, fresh, iid or cached)", s)
}

// UnmarshalText parses a variant's name (JSON configs and flags). The empty name is Fresh, the
// default, which configs written before variants were typed used for methods without chains.
func (v *Variant) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*v = Fresh
		return nil
	}
	p, err := ParseVariant(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// MarshalText writes the variant's name.
func (v Variant) MarshalText() ([]byte, error) { return []byte(v.String()), nil }
