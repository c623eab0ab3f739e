#include "smcl/eval/cam.h"

#include "smcl/augment/batch_transforms.h"
#include "smcl/core/error.h"
#include "smcl/saliency/saliency.h"

namespace smcl::eval {

torch::Tensor raw_class_maps(const torch::Tensor& feature_map, const torch::Tensor& weight,
                             const torch::Tensor& classes) {
  SMCL_ASSERT(feature_map.dim() == 4 && weight.dim() == 2 && weight.size(1) == feature_map.size(1) &&
                  classes.size(0) == feature_map.size(0),
              "raw_class_maps: feature map " << feature_map.sizes() << ", weight " << weight.sizes() << ", classes "
                                             << classes.sizes());
  return (feature_map * weight.index_select(0, classes).unsqueeze(2).unsqueeze(3)).sum(1);
}

ClassActivations class_activations(models::Network& model, const torch::Tensor& images, const torch::Tensor& labels,
                                   const config::AugmentConfig& augment, const torch::Device& device) {
  SMCL_CHECK(images.dim() == 4 && images.scalar_type() == torch::kUInt8 && labels.size(0) == images.size(0),
             "class activations need uint8 images [B, C, H, W] and one label each, got " << images.sizes() << " and "
                                                                                         << labels.sizes());
  c10::InferenceMode inference;
  const bool was_training = model->is_training();
  model->eval();
  auto out = model->forward(augment::normalize(images.to(device), augment.mean, augment.std));
  model->train(was_training);
  auto weight = model->classifier()->weight.detach();
  // LDAM's cosine classifier compares normalised features with normalised class weights; the feature norm is
  // one positive factor per image, which the division by the map's maximum removes.
  if (model->cosine_classifier()) weight = weight / weight.norm(2, 1, /*keepdim=*/true).clamp_min(1e-12);
  ClassActivations result;
  result.logits = out.logits.to(torch::kCPU, torch::kFloat32);
  result.predicted = result.logits.argmax(1);
  result.confidence = result.logits.softmax(1).gather(1, result.predicted.unsqueeze(1)).squeeze(1);
  const int64_t h = images.size(2), w = images.size(3);
  auto feature_map = out.feature_map.to(torch::kFloat32);
  result.predicted_map =
      saliency::class_activation_map(feature_map, weight.to(torch::kFloat32), result.predicted.to(device), h, w)
          .to(torch::kCPU);
  result.true_map =
      saliency::class_activation_map(feature_map, weight.to(torch::kFloat32), labels.to(device), h, w).to(torch::kCPU);
  return result;
}

torch::Tensor overlay(const torch::Tensor& image, const torch::Tensor& map) {
  SMCL_ASSERT(image.dim() == 3 && map.dim() == 2 && image.size(1) == map.size(0) && image.size(2) == map.size(1),
              "overlay: image " << image.sizes() << ", map " << map.sizes());
  auto rgb = image.expand({3, -1, -1}).to(torch::kFloat32);  // a gray image replicated; RGB as it is
  // The jet colour map: blue (0) - cyan - green - yellow - red (1), each channel a clipped tent.
  auto m = map.to(torch::kFloat32).clamp(0, 1);
  auto channel = [&](double centre) { return (1.5 - (4 * m - centre).abs()).clamp(0, 1); };
  auto jet = torch::stack({channel(3), channel(2), channel(1)}) * 255;
  return (0.5 * rgb + 0.5 * jet).round().clamp(0, 255).to(torch::kUInt8);
}

}  // namespace smcl::eval
