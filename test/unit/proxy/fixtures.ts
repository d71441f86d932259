/** A small two-layer nas-bench-bert entry the scoring tests share. */
export const toyEntry = {
  id: 'toy',
  hidden_size: 128,
  nas_config: {
    encoder_layers: [
      { operation_type: 'SA', operation_parameter: 'SDP', num_operation_heads: 4, feed_forward_dimension: 512, num_feed_forward: 3 },
      { operation_type: 'SA', operation_parameter: 'SDP', num_operation_heads: 2, feed_forward_dimension: 1024, num_feed_forward: 1 },
    ],
  },
};
