"""What a post may say: the content policy, X's text rules, images and post templates."""
