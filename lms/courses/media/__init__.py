"""Lesson media: images, PDF handouts, audio and captioned video, checked by their content,
stored under the instance folder and served only to users who may see the lesson."""
