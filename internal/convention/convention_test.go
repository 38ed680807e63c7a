package convention

import (
	"path/filepath"
	"testing"
)

func TestDirAndGlob(t *testing.T) {
	t.Setenv(EnvPath, "")
	t.Setenv(EnvGlob, "")
	if Dir() == "" || Glob() != filepath.Join(Dir(), "*.mmstats") {
		t.Errorf("defaults: Dir %q, Glob %q", Dir(), Glob())
	}
	t.Setenv(EnvPath, "/var/run/app")
	if Dir() != "/var/run/app" || Glob() != "/var/run/app/*.mmstats" {
		t.Errorf("with $MMSTATS_PATH: Dir %q, Glob %q", Dir(), Glob())
	}
	t.Setenv(EnvGlob, "/srv/*/x.mmstats")
	if Glob() != "/srv/*/x.mmstats" {
		t.Errorf("with $MMSTATS_GLOB: %q", Glob())
	}
}

func TestEscapeGlob(t *testing.T) {
	for _, name := range []string{`plain`, `[x]`, `a*b?c`, `back\slash`, `*`} {
		pattern := EscapeGlob(name) + "/*.mmstats"
		if ok, err := filepath.Match(pattern, name+"/a.mmstats"); !ok || err != nil {
			t.Errorf("%q: pattern %q does not match the name itself (%v)", name, pattern, err)
		}
		if HasMeta(name) != (EscapeGlob(name) != name) {
			t.Errorf("HasMeta(%q) = %v", name, HasMeta(name))
		}
	}
	if ok, _ := filepath.Match(EscapeGlob("[x]"), "x"); ok {
		t.Error(`an escaped "[x]" matches "x"`)
	}
}

func TestIsTempName(t *testing.T) {
	for name, want := range map[string]bool{
		".mmstats.0123456789abcdef.tmp":   true,
		".mmstats.0123456789ABCDEF.tmp":   false,
		".mmstats.0123456789abcde.tmp":    false,
		".mmstats.0123456789abcdef.tmpx":  false,
		"x.mmstats":                       false,
		".x.mmstats.tmp0123456789ab":      false, // an older writer's: pkg/clean knows them
		".mmstats.0123456789abcdef0.tmp":  false,
		"..mmstats.0123456789abcdef.tmp":  false,
		".mmstats.0123456789abcdef.tmp/x": false,
	} {
		if IsTempName(name) != want {
			t.Errorf("IsTempName(%q) = %v", name, !want)
		}
		if ok, _ := filepath.Match(Pattern, name); ok && want {
			t.Errorf("Pattern matches the temporary name %q", name)
		}
	}
}

func TestDefaultField(t *testing.T) {
	for label, want := range map[string]string{
		"sys.pid":              PID,
		"web.stats.sys.pid":    PID,
		"xsys.pid":             PID, // a suffix, as cleanstats 0.8.0 matched it
		"sys.pid.x":            "",
		"sys.created":          Created,
		"app.sys.flock":        Flock,
		"org.golang.version":   "",
		"web.stats.status.2XX": "",
		"":                     "",
	} {
		if got := DefaultField(label); got != want {
			t.Errorf("DefaultField(%q) = %q, want %q", label, got, want)
		}
	}
	for label, want := range map[string]bool{"sys.pid": true, "a.sys.tid": true, "sys.uid": true, "sys.gid": true,
		"sys.created": false, "sys.flock": false, "requests": false} {
		if IsProcessInfo(label) != want {
			t.Errorf("IsProcessInfo(%q) = %v", label, !want)
		}
	}
}
