package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The pages are written as roff directly from the help text, not through
// markdown: the help is plain text, where "_" and "*" are characters, not
// emphasis, and an indented block (a route table, an example, a list with
// hanging lines) must keep its spaces. So each character of the help is
// escaped for roff, filled paragraphs are filled, and indented lines are
// set as they are (.nf).

// roffEscapes are the characters that roff would not print as themselves
// on a UTF-8 terminal: a backslash starts an escape, '-' prints as a
// hyphen (U+2010), quotes and accents as typographic ones, '~' and '^' as
// modifier letters.
var roffEscapes = strings.NewReplacer(
	`\`, `\e`,
	"-", `\-`,
	"'", `\(aq`,
	"`", `\(ga`,
	"~", `\(ti`,
	"^", `\(ha`,
)

// escape returns one line of text for roff: escaped, and protected with
// \& from being read as a request when it starts with a dot or an
// apostrophe.
func escape(line string) string {
	s := roffEscapes.Replace(line)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// writePage writes the man page of cmd in section 1.
func writePage(w io.Writer, cmd *cobra.Command, date time.Time, seeAlso []string) error {
	var b strings.Builder
	name := cmd.CommandPath()
	fmt.Fprintf(&b, ".\\\" Written by internal/tools/genman from %s --help: do not edit.\n", name)
	fmt.Fprintf(&b, ".TH %q 1 %q %q %q\n", strings.ToUpper(strings.ReplaceAll(name, " ", "-")), date.Format("January 2006"), "mmstats", "mmstats manual")
	// No hyphenation and no justification: words stay whole, as in the
	// help, and can be searched for.
	b.WriteString(".nh\n.ad l\n")
	b.WriteString(".SH NAME\n")
	fmt.Fprintf(&b, "%s \\- %s\n", escape(strings.ReplaceAll(name, " ", "-")), escape(cmd.Short))
	b.WriteString(".SH SYNOPSIS\n")
	fmt.Fprintf(&b, "\\fB%s\\fR\n", escape(cmd.UseLine()))
	b.WriteString(".SH DESCRIPTION\n")
	text(&b, cmd.Long)
	if flags := options(cmd); flags != "" {
		b.WriteString(".SH OPTIONS\n")
		b.WriteString(flags)
	}
	if cmd.Example != "" {
		b.WriteString(".SH EXAMPLES\n")
		preformatted(&b, strings.Split(strings.Trim(cmd.Example, "\n"), "\n"))
	}
	if len(seeAlso) > 0 {
		b.WriteString(".SH SEE ALSO\n")
		for i, s := range seeAlso {
			sep := ","
			if i == len(seeAlso)-1 {
				sep = ""
			}
			fmt.Fprintf(&b, ".BR %s (1)%s\n", escape(s), sep)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// text writes help text: paragraphs separated by blank lines, filled,
// except runs of indented lines, which are set as they are.
func text(b *strings.Builder, s string) {
	for _, para := range strings.Split(strings.Trim(s, "\n"), "\n\n") {
		lines := strings.Split(strings.Trim(para, "\n"), "\n")
		b.WriteString(".PP\n")
		for len(lines) > 0 {
			n := 0
			indented := isIndented(lines[0])
			for n < len(lines) && isIndented(lines[n]) == indented {
				n++
			}
			if indented {
				preformatted(b, lines[:n])
			} else {
				for _, l := range lines[:n] {
					b.WriteString(escape(strings.TrimSpace(l)) + "\n")
				}
			}
			lines = lines[n:]
		}
	}
}

func isIndented(line string) bool {
	return strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")
}

// preformatted writes lines as they are, in no-fill mode.
func preformatted(b *strings.Builder, lines []string) {
	b.WriteString(".nf\n")
	for _, l := range lines {
		b.WriteString(escape(l) + "\n")
	}
	b.WriteString(".fi\n")
}

// options returns the OPTIONS section's body: each flag as --help shows
// it, with its argument, its usage and its default.
func options(cmd *cobra.Command) string {
	cmd.InitDefaultHelpFlag()
	var b strings.Builder
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		varname, usage := pflag.UnquoteUsage(f)
		head := `\fB\-\-` + escape(f.Name) + `\fR`
		if f.Shorthand != "" {
			head = `\fB\-` + escape(f.Shorthand) + `\fR, ` + head
		}
		if varname != "" {
			head += ` \fI` + escape(varname) + `\fR`
		}
		if def := defaultText(f); def != "" {
			usage += " (default " + def + ")"
		}
		b.WriteString(".TP\n" + head + "\n" + escape(usage) + "\n")
	})
	return b.String()
}

// defaultText returns the default of a flag as --help prints it, or ""
// when --help prints none (pflag leaves out zero values).
func defaultText(f *pflag.Flag) string {
	switch f.DefValue {
	case "", "false", "0", "0s", "[]", "<nil>":
		return ""
	}
	if f.Value.Type() == "string" {
		return fmt.Sprintf("%q", f.DefValue)
	}
	return f.DefValue
}
