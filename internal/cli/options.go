package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// options binds one subcommand's settings from flags, environment and a
// TOML file with one precedence rule: flag > env > file > default. Every
// setting has mechanically derived spellings: the flag --data-dir, the
// variable PREFIX_DATA_DIR (plus any listed aliases), the file key
// data_dir.
type options struct {
	fs        *flag.FlagSet
	envPrefix string
	aliases   map[string][]string // flag name → extra environment names
	fileKeys  map[string]string   // extra file key → flag name
	lists     map[string]bool     // flags whose env value is comma-separated
	secrets   map[string]bool
	config    string // --config, read before the other settings
}

func newOptions(name, envPrefix string) *options {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := &options{fs: fs, envPrefix: envPrefix, aliases: map[string][]string{}, fileKeys: map[string]string{},
		lists: map[string]bool{}, secrets: map[string]bool{}}
	fs.StringVar(&o.config, "config", "", "read settings from this TOML `file` (keys are the flag names with _ for -)")
	return o
}

// alias adds environment names for a flag, e.g. the tutorial's ATLAS_URI.
func (o *options) alias(flagName string, env ...string) {
	o.aliases[flagName] = append(o.aliases[flagName], env...)
}

// list declares a repeatable flag: --name may be given many times; the
// environment holds a comma-separated list under the plural name (and the
// singular), and the file an array under either key — oauth2-proxy's
// spellings (--upstream, OAUTH2_PROXY_UPSTREAMS, upstreams = [...]).
func (o *options) list(p *[]string, name, plural, usage string) {
	o.fs.Var((*stringList)(p), name, usage)
	o.lists[name] = true
	if plural != "" && plural != name {
		o.aliases[name] = append([]string{o.envName(plural)}, o.aliases[name]...)
		o.fileKeys[fileKey(plural)] = name
	}
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func (o *options) envName(name string) string {
	return o.envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// secret marks a flag whose value must never be echoed in errors.
func (o *options) secret(flagName string) { o.secrets[flagName] = true }

// envNames returns the environment spellings of a flag, in precedence order.
func (o *options) envNames(name string) []string {
	return append([]string{o.envName(name)}, o.aliases[name]...)
}

// fileKey returns the config-file spelling of a flag.
func fileKey(name string) string { return strings.ReplaceAll(name, "-", "_") }

// errHelp is returned by parse when -h or --help was given.
var errHelp = flag.ErrHelp

// parse applies args, then the environment, then the config file, to every
// setting not given by a higher source. It reports every problem at once.
func (o *options) parse(args []string, getenv func(string) string) error {
	if err := o.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return fmt.Errorf("%w (see --help)", err)
	}
	if o.fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (settings are given as --name=value; see --help)", o.fs.Arg(0))
	}
	given := map[string]bool{}
	o.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	if !given["config"] {
		for _, e := range o.envNames("config") {
			if v := getenv(e); v != "" {
				o.config = v
				break
			}
		}
	}
	file, err := o.readConfigFile(o.config)
	if err != nil {
		return err
	}
	var errs []error
	for key, v := range file {
		if name, ok := o.fileKeys[key]; ok {
			if _, dup := file[fileKey(name)]; !dup {
				file[fileKey(name)] = v
			}
			continue
		}
		if strings.Contains(key, "-") {
			errs = append(errs, fmt.Errorf("config file %s: key %q: write keys with underscores: %s", o.config, key, fileKey(key)))
			continue
		}
		if f := o.fs.Lookup(strings.ReplaceAll(key, "_", "-")); f == nil || key == "config" {
			errs = append(errs, fmt.Errorf("config file %s: unknown setting %q (see --help for the settings)", o.config, key))
		}
	}
	o.fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || f.Name == "config" {
			return
		}
		for _, e := range o.envNames(f.Name) {
			if v, ok := lookup(getenv, e); ok {
				values := []string{v}
				if o.lists[f.Name] {
					values = splitComma(v)
				}
				for _, v := range values {
					if err := f.Value.Set(v); err != nil {
						errs = append(errs, o.invalid(f.Name, "environment variable "+e, v, err))
					}
				}
				return
			}
		}
		if v, ok := file[fileKey(f.Name)]; ok {
			if err := setFromFile(f, v); err != nil {
				errs = append(errs, o.invalid(f.Name, "config file "+o.config, fmt.Sprint(v), err))
			}
		}
	})
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

func splitComma(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// lookup treats an empty variable as unset, as shells and compose files
// commonly leave them.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

func (o *options) invalid(name, source, value string, err error) error {
	if o.secrets[name] {
		value = "<redacted>"
	}
	return fmt.Errorf("--%s (from %s) = %q: %w", name, source, value, err)
}

func (o *options) readConfigFile(path string) (map[string]any, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file (--config): %w", err)
	}
	var m map[string]any
	if err := toml.Unmarshal(b, &m); err != nil {
		// The parser quotes what it found; never when that is a secret.
		var pe toml.ParseError
		if errors.As(err, &pe) && o.secrets[strings.ReplaceAll(pe.LastKey, "_", "-")] {
			return nil, fmt.Errorf("config file %s is not valid TOML: line %d, the value of %s (write strings in double quotes)", path, pe.Position.Line, pe.LastKey)
		}
		return nil, fmt.Errorf("config file %s is not valid TOML: %w", path, err)
	}
	return m, nil
}

// setFromFile sets a flag from a TOML value; arrays set a repeatable flag
// once per element.
func setFromFile(f *flag.Flag, v any) error {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if err := f.Value.Set(fmt.Sprint(e)); err != nil {
				return err
			}
		}
		return nil
	case string:
		if lf, ok := f.Value.(*stringList); ok {
			for _, e := range splitComma(v) {
				lf.Set(e)
			}
			return nil
		}
		return f.Value.Set(v)
	case int64:
		return f.Value.Set(strconv.FormatInt(v, 10))
	default:
		return f.Value.Set(fmt.Sprint(v))
	}
}

// usage writes every setting with its spellings and default.
func (o *options) usage(w io.Writer, synopsis string) {
	fmt.Fprintf(w, "%s\n\nSettings (flag, then environment, then config-file key; precedence flag > env > file > default):\n\n", synopsis)
	o.fs.VisitAll(func(f *flag.Flag) {
		kind, help := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s %s\n", f.Name, kind)
		fmt.Fprintf(w, "      %s\n", help)
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "0s" && f.DefValue != "false" && f.DefValue != "[]" {
			fmt.Fprintf(w, "      default: %s\n", f.DefValue)
		}
		if f.Name != "config" {
			keys := []string{fileKey(f.Name)}
			for k, n := range o.fileKeys {
				if n == f.Name {
					keys = append(keys, k)
				}
			}
			fmt.Fprintf(w, "      env: %s   file: %s\n", strings.Join(o.envNames(f.Name), ", "), strings.Join(keys, ", "))
		} else {
			fmt.Fprintf(w, "      env: %s\n", strings.Join(o.envNames(f.Name), ", "))
		}
	})
}

// secretValue is a secret given directly or, with its --…-file form, read
// from a file (surrounding white space trimmed). The file wins.
func secretValue(value, fileFlag, path string) (string, error) {
	if path == "" {
		return value, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", fileFlag, err)
	}
	return strings.TrimSpace(string(b)), nil
}
