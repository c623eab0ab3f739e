// Class activation maps of a trained model's predictions (Zhou et al. 2016), for `smcl cam`: what the model looks
// at when it predicts a class, for the predicted and for the true class of each image.
#pragma once

#include <torch/types.h>

#include "smcl/config/config.h"
#include "smcl/models/network.h"

namespace smcl::eval {

// The classifier's maps before ReLU and upsampling: sum_d w[k_i, d] F_i[d] for class k_i of image i, at the
// feature resolution. feature_map [B, D, h, w], weight [K, D], classes [B] -> [B, h, w]. With global average
// pooling and a linear classifier, a map's spatial mean plus the class's bias is the class's logit.
torch::Tensor raw_class_maps(const torch::Tensor& feature_map, const torch::Tensor& weight,
                             const torch::Tensor& classes);

struct ClassActivations {
  torch::Tensor logits;         // [B, K] float32
  torch::Tensor predicted;      // [B] int64
  torch::Tensor confidence;     // [B] softmax probability of the predicted class
  torch::Tensor predicted_map;  // [B, H, W] in [0, 1]: the predicted class's CAM, at the image's size
  torch::Tensor true_map;       // [B, H, W] in [0, 1]: the true class's CAM
};

// The model (eval mode, no gradients) on uint8 images [B, C, H, W] normalised with augment.mean/std, and the CAMs
// of saliency::class_activation_map: ReLU of the raw map, bilinear to H x W, divided by its maximum. For LDAM's
// cosine classifier the class weights are normalised as its logits use them. Results are on the CPU.
ClassActivations class_activations(models::Network& model, const torch::Tensor& images, const torch::Tensor& labels,
                                   const config::AugmentConfig& augment, const torch::Device& device);

// An image [C, H, W] uint8 (C = 1 or 3) with a map [H, W] in [0, 1] over it: 0.5 image + 0.5 jet colour of the
// map. -> [3, H, W] uint8.
torch::Tensor overlay(const torch::Tensor& image, const torch::Tensor& map);

}  // namespace smcl::eval
