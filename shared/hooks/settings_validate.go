package hooks

// ValidateSettings checks settings as PutSettings does before it reads
// anything stored (filters compile, webhook scheme, secrets and headers),
// so a tool can check a settings document offline. Invalid settings are
// ErrInvalid errors whose message says what to fix.
func ValidateSettings(in Settings) error {
	return checkSettings(in)
}
