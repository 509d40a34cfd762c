"""What every layer uses: atomic files, publishing folders, the cache store, units, versions, the fonts
(fontconfig confined when layout is imported)."""
