"""The synthetic light stage: subjects, OLAT renders, G-buffers and HDR maps with ground truth."""
