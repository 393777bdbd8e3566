package api

// DirectorySync answers POST /api/v1/directory/sync: what one
// synchronisation with the directory changed. Each list names at most 200
// people; Counts are exact.
type DirectorySync struct {
	// Entries is how many entries the directory returned.
	Entries     int               `json:"entries"`
	Added       []DirectoryChange `json:"added"`
	Updated     []DirectoryChange `json:"updated"`
	Deactivated []DirectoryChange `json:"deactivated"`
	Reactivated []DirectoryChange `json:"reactivated"`
	Skipped     []DirectorySkip   `json:"skipped"`
	Counts      DirectoryCounts   `json:"counts"`
}

// DirectoryChange is one person a synchronisation changed.
type DirectoryChange struct {
	Handle string `json:"handle"`
	// Fields are what changed: name, nick, timezone, mobile, email,
	// handle, dn.
	Fields []string `json:"fields,omitempty"`
}

// DirectorySkip is an entry, or one field of it ("mobile", "email",
// "nick", "timezone"), that could not be taken, and why.
type DirectorySkip struct {
	DN     string `json:"dn"`
	Handle string `json:"handle,omitempty"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// DirectoryCounts are the exact sizes of a synchronisation's lists, and how
// many people it left as they were.
type DirectoryCounts struct {
	Added       int `json:"added"`
	Updated     int `json:"updated"`
	Deactivated int `json:"deactivated"`
	Reactivated int `json:"reactivated"`
	Skipped     int `json:"skipped"`
	Unchanged   int `json:"unchanged"`
}
