"""The music catalog: tag vocabulary, seeding, import, Last.fm crawl, Spotify resolution."""
