package clean

import "testing"

func TestParseProc(t *testing.T) {
	t.Run("starttime after a tricky comm", func(t *testing.T) {
		// comm may hold spaces and parentheses: count from the last ')'.
		stat := "4242 (a) (b c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 8192 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
		got, err := parseStartTicks([]byte(stat))
		if err != nil || got != 123456 {
			t.Errorf("got %d, %v; want 123456", got, err)
		}
	})
	for _, bad := range []string{"", "4242 (x S 1", "4242 (x) S 1 2 3"} {
		if _, err := parseStartTicks([]byte(bad)); err == nil {
			t.Errorf("parseStartTicks(%q) did not fail", bad)
		}
	}
	status := "Name:\tsleep\nState:\tS (sleeping)\nUid:\t1000\t0\t0\t0\nGid:\t100\t100\t100\t100\n"
	if uid, err := parseRealUID([]byte(status)); err != nil || uid != 1000 {
		t.Errorf("real uid: got %d, %v; want 1000 (the first number)", uid, err)
	}
	if _, err := parseRealUID([]byte("Name:\tx\n")); err == nil {
		t.Error("status without Uid did not fail")
	}
	if b, err := parseBootTime([]byte("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n")); err != nil || b != 1700000000 {
		t.Errorf("btime: got %d, %v", b, err)
	}
	if _, err := parseBootTime([]byte("cpu 1\n")); err == nil {
		t.Error("/proc/stat without btime did not fail")
	}
}
