package cli

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/pflag"
)

// plainFlagError rewords the error of a flag value that does not parse as
// its type, which pflag reports with Go's parser error
// (`invalid argument "abc" for "--workers" flag: strconv.ParseInt:
// parsing "abc": invalid syntax`), as a sentence for the user:
// `--workers must be a whole number, got "abc"`. Other errors, such as a
// value outside a flag's list of choices, come back unchanged.
func plainFlagError(err error) error {
	var bad *pflag.InvalidValueError
	if !errors.As(err, &bad) {
		return err
	}
	flag, value := bad.GetFlag(), bad.GetValue()
	var num *strconv.NumError
	var want string
	switch typ := flag.Value.Type(); {
	case typ == "duration":
		want = "a duration such as 20s, 1.5m or 2h"
	case !errors.As(err, &num):
		return err
	case num.Func == "ParseBool":
		want = "true or false"
	case errors.Is(num.Err, strconv.ErrRange):
		return fmt.Errorf("--%s: %q is out of range", flag.Name, value)
	case num.Func == "ParseFloat":
		want = "a number"
	case num.Func == "ParseUint":
		want = "a whole number, 0 or more"
	default:
		want = "a whole number"
	}
	return fmt.Errorf("--%s must be %s, got %q", flag.Name, want, value)
}
