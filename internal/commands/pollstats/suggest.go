package pollstats

import (
	"sort"
	"strings"
)

// maxSuggestions bounds how many labels an error suggests.
const maxSuggestions = 3

// suggest ranks labels by how close they come to field, an unknown field
// given with prefix. near are those close enough to be a likely typo (by
// edit distance, or because the field is one of their dot-separated
// parts) and as close as the closest; nearest are the closest ones
// anyway, for when none is near.
// Both are in the form to type: without the prefix when a label has it.
func suggest(field, prefix string, labels []string) (near, nearest []string) {
	type scored struct {
		text  string
		score int
	}
	want := strings.ToLower(field)
	limit := max(2, len([]rune(field))/3)
	seen := map[string]bool{}
	var all []scored
	for _, l := range labels {
		text := typed(l, prefix)
		if seen[text] {
			continue
		}
		seen[text] = true
		lower := strings.ToLower(text)
		score := distance(want, lower)
		if hasPart(lower, want) || hasPart(want, lower) {
			score = min(score, limit)
		}
		all = append(all, scored{text, score})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].score != all[j].score {
			return all[i].score < all[j].score
		}
		return all[i].text < all[j].text
	})
	for i, s := range all {
		if i == maxSuggestions {
			break
		}
		if s.score <= limit && s.score == all[0].score {
			near = append(near, s.text)
		}
		nearest = append(nearest, s.text)
	}
	return near, nearest
}

// typed returns label as it would be given with prefix: without the
// prefix (and the dot after it) when it has it, else whole.
func typed(label, prefix string) string {
	if prefix == "" || !strings.HasPrefix(label, prefix) || label == prefix {
		return label
	}
	rest := label[len(prefix):]
	if !strings.HasSuffix(prefix, ".") {
		if !strings.HasPrefix(rest, ".") || rest == "." {
			return label // a longer word, not a prefix: "web.stats" in "web.statsd.x"
		}
		rest = rest[1:]
	}
	return rest
}

// hasPart reports whether part is one or more whole dot-separated parts
// of s: "request" is in "timers.request", "timers.request" in
// "web.timers.request.count".
func hasPart(s, part string) bool {
	if part == "" || part == s {
		return false
	}
	for i := 0; ; {
		j := strings.Index(s[i:], part)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(part)
		if (start == 0 || s[start-1] == '.') && (end == len(s) || s[end] == '.') {
			return true
		}
		i = start + 1
	}
}

// distance is the Levenshtein edit distance between a and b, in runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
