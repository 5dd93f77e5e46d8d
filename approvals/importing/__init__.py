"""Bulk scheduling: a CSV of posts and its images, every row checked, all saved or none."""
